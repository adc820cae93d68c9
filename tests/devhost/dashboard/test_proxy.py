"""The dashboard server: it passes on only the Durable API calls its page makes, adds the key itself, and refuses
everything else with a sentence naming what was wrong."""

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable

from aiohttp import web

from tests.devhost.dashboard.harness import KEY, Dashboard, running

API = "/runtime/webhooks/durabletask"
PAGE = {"X-Devhost-Dashboard": "1"}


def scenario(body: Callable[[Dashboard], Awaitable[None]], **options: str) -> None:
    async def run() -> None:
        async with running(**options) as dashboard:
            await body(dashboard)

    asyncio.run(run())


def test_listing_is_passed_on_with_the_key_in_the_header_and_paging_both_ways() -> None:
    async def body(d: Dashboard) -> None:
        d.host.answers[("GET", f"{API}/instances")] = web.json_response(
            [{"instanceId": "op-0123456789ab-1"}], headers={"x-ms-continuation-token": "page-2"})
        status, listed, response = await d.call(
            "GET", f"{API}/instances?top=100&instanceIdPrefix=op-0123456789ab-&runtimeStatus=Running",
            headers={"x-ms-continuation-token": "page-1"})
        assert status == 200
        assert listed == [{"instanceId": "op-0123456789ab-1"}]
        assert response.headers["x-ms-continuation-token"] == "page-2"
        [seen] = d.host.seen
        assert (seen.method, seen.raw_path) == ("GET", f"{API}/instances")
        assert seen.query == {"top": "100", "instanceIdPrefix": "op-0123456789ab-", "runtimeStatus": "Running"}
        assert seen.headers["x-functions-key"] == KEY
        assert seen.headers["x-ms-continuation-token"] == "page-1"

    scenario(body)


def test_the_browsers_own_key_and_cookies_are_not_passed_on() -> None:
    async def body(d: Dashboard) -> None:
        status, _, _ = await d.call("GET", f"{API}/instances/", headers={
            "x-functions-key": "a key typed into the browser", "Cookie": "session=1", "Authorization": "Bearer x"})
        assert status == 200
        [seen] = d.host.seen
        assert seen.headers["x-functions-key"] == KEY
        assert "cookie" not in seen.headers
        assert "authorization" not in seen.headers

    scenario(body)


def test_without_a_key_nothing_is_added_as_for_func_start() -> None:
    async def body(d: Dashboard) -> None:
        assert (await d.call("GET", f"{API}/instances"))[0] == 200
        assert "x-functions-key" not in d.host.seen[0].headers

    scenario(body, key="")


def test_status_terminate_and_purge_of_one_instance_reach_their_api_paths_with_the_id_escaped() -> None:
    async def body(d: Dashboard) -> None:
        # The page escapes the id once (encodeURIComponent); the dashboard passes it on escaped, not twice.
        escaped = "op-0123456789ab-a%20b%3F%23"
        d.host.answers[("POST", f"{API}/instances/{escaped}/terminate")] = web.Response(status=202)
        d.host.answers[("DELETE", f"{API}/instances/{escaped}")] = web.json_response({"instancesDeleted": 1})
        status, _, _ = await d.call("GET", f"{API}/instances/{escaped}?showHistory=true&showHistoryOutput=true")
        assert status == 200
        status, _, _ = await d.call("POST", f"{API}/instances/{escaped}/terminate?reason=from+the+page", headers=PAGE)
        assert status == 202
        status, purged, _ = await d.call("DELETE", f"{API}/instances/{escaped}", headers=PAGE)
        assert (status, purged) == (200, {"instancesDeleted": 1})
        assert [(s.method, s.raw_path, s.query) for s in d.host.seen] == [
            ("GET", f"{API}/instances/{escaped}", {"showHistory": "true", "showHistoryOutput": "true"}),
            ("POST", f"{API}/instances/{escaped}/terminate", {"reason": "from the page"}),
            ("DELETE", f"{API}/instances/{escaped}", {}),
        ]
        assert all(s.headers["x-functions-key"] == KEY for s in d.host.seen)

    scenario(body)


def test_other_durable_api_calls_and_other_paths_are_refused_and_never_reach_the_host() -> None:
    refusal = ("The dashboard does not pass on {} {}: it passes on only listing instances, one instance's status, "
               "terminating one and purging one.")

    async def body(d: Dashboard) -> None:
        for method, path in [("DELETE", f"{API}/instances"),  # purge by filter: every instance at once
                             ("POST", f"{API}/instances/x/raiseEvent/go"),
                             ("POST", f"{API}/instances/x/rewind"),
                             ("POST", f"{API}/orchestrators/long_operation")]:
            status, answer, _ = await d.call(method, path, headers=PAGE)
            assert (status, answer) == (404, {"error": refusal.format(method, path)})
        status, answer, _ = await d.call("POST", "/api/operations", headers=PAGE)
        assert (status, answer) == (404, {"error": "The dashboard has no page at /api/operations; open / instead."})
        assert d.host.seen == []

    scenario(body)


def test_an_unknown_query_parameter_is_refused_by_name() -> None:
    async def body(d: Dashboard) -> None:
        status, answer, _ = await d.call("GET", f"{API}/instances?code=abc&top=5")
        assert (status, answer) == (400, {"error": (
            "The dashboard does not pass on query parameter 'code' when listing instances; it passes on "
            "instanceIdPrefix, runtimeStatus, top, showInput, createdTimeFrom, createdTimeTo.")})
        status, answer, _ = await d.call("DELETE", f"{API}/instances/x?removeEverything=true", headers=PAGE)
        assert (status, answer) == (400, {"error": (
            "The dashboard does not pass on query parameter 'removeEverything' when purging an instance; it passes "
            "on .")})
        assert d.host.seen == []

    scenario(body)


def test_terminate_and_purge_need_the_pages_header_and_its_origin() -> None:
    async def body(d: Dashboard) -> None:
        status, answer, _ = await d.call("POST", f"{API}/instances/x/terminate")
        assert (status, answer) == (403, {"error": (
            "Terminate and purge need the header X-Devhost-Dashboard: 1, which the dashboard page sends.")})
        status, answer, _ = await d.call("DELETE", f"{API}/instances/x",
                                         headers={**PAGE, "Origin": "https://evil.example"})
        assert (status, answer) == (403, {"error": (
            f"The dashboard takes terminate and purge only from its own page at {d.url}, not from "
            "https://evil.example.")})
        assert d.host.seen == []

    scenario(body)


def test_a_foreign_host_name_is_refused_against_dns_rebinding() -> None:
    async def body(d: Dashboard) -> None:
        status, answer, _ = await d.call("GET", f"{API}/instances", headers={"Host": "rebind.example:7072"})
        assert (status, answer) == (403, {"error": (
            "The dashboard answers only requests to 127.0.0.1 or localhost, not to host 'rebind.example:7072'.")})
        port = d.url.rsplit(":", 1)[1]
        assert (await d.call("GET", f"{API}/instances", headers={"Host": f"localhost:{port}"}))[0] == 200
        assert len(d.host.seen) == 1

    scenario(body)


def test_the_key_never_reaches_the_browser_even_when_the_host_echoes_it() -> None:
    async def body(d: Dashboard) -> None:
        d.host.answers[("GET", f"{API}/instances/x")] = web.json_response(
            {"statusQueryGetUri": f"http://127.0.0.1/runtime/webhooks/durabletask/instances/x?code={KEY}"})
        status, answer, _ = await d.call("GET", f"{API}/instances/x")
        assert status == 200
        assert answer == {"statusQueryGetUri": "http://127.0.0.1/runtime/webhooks/durabletask/instances/x"
                                               "?code=<key removed by the dashboard>"}
        status, config, _ = await d.call("GET", "/config.json")
        assert KEY not in str(config)

    scenario(body)


def test_a_refused_key_is_named() -> None:
    async def body(d: Dashboard) -> None:
        d.host.answers[("GET", f"{API}/instances")] = web.Response(status=401)
        status, answer, _ = await d.call("GET", f"{API}/instances")
        assert (status, answer) == (502, {"error": (
            f"The functions host at {d.functions_url} refused the key it was given (HTTP 401): start the dashboard "
            "with --key holding its durabletask system key or master key, or --data-dir with its keys.json.")})

    scenario(body)


def test_without_a_key_a_refusal_says_so() -> None:
    async def body(d: Dashboard) -> None:
        d.host.answers[("GET", f"{API}/instances")] = web.Response(status=401)
        status, answer, _ = await d.call("GET", f"{API}/instances")
        assert (status, answer) == (502, {"error": (
            f"The functions host at {d.functions_url} refused a request without a key (HTTP 401): start the "
            "dashboard with --key holding its durabletask system key or master key, or --data-dir with its "
            "keys.json.")})

    scenario(body, key="")


def test_an_unreachable_host_is_named() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed.

    async def body(d: Dashboard) -> None:
        status, answer, _ = await d.call("GET", f"{API}/instances")
        assert status == 502
        # The rest of the sentence is aiohttp's own description of the failed connection.
        assert re.fullmatch(rf"The dashboard cannot reach the functions host at http://127\.0\.0\.1:{port}: .+\.",
                            answer["error"]), answer

    scenario(body, functions_url=f"http://127.0.0.1:{port}")


def test_the_page_is_served_with_a_policy_that_allows_only_its_own_scripts() -> None:
    async def body(d: Dashboard) -> None:
        status, html, response = await d.call("GET", "/")
        assert status == 200
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; script-src 'self';")
        assert '<script src="/dashboard.js" defer></script>' in html
        for path in ("/dashboard.js", "/model.js", "/dashboard.css"):
            assert (await d.call("GET", path))[0] == 200

    scenario(body)


def test_a_cors_preflight_is_never_granted() -> None:
    async def body(d: Dashboard) -> None:
        status, _, response = await d.call("OPTIONS", f"{API}/instances/x/terminate", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-devhost-dashboard"})
        assert status == 403
        assert not [name for name in response.headers if name.lower().startswith("access-control-")]
        assert d.host.seen == []

    scenario(body)
