"""``python -m devhost instances``: the orchestrations of a functions host and their progress, as a table.

What the Azure Portal or Durable Functions Monitor show, read from the same Durable HTTP API
(``/runtime/webhooks/durabletask/instances/``), so it works against ``devhost functions`` and ``func start`` alike.
That API takes the durabletask system key or the master key (devhost/functions/auth.py): ``--key``, or, for a host
on this machine, the system key from the keys file in ``--data-dir`` (``devhost functions``' or ``devhost up``'s).
"""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from contract import ContractError, Progress
from devhost.durable_key import DurableKeyError
from devhost.durable_key import durable_key as find_durable_key
from devhost.functions.keys import KEYS_FILE

PROG = "devhost instances"
DEFAULT_FUNCTIONS_URL = "http://127.0.0.1:7071"
DEFAULT_DATA_DIR = Path(".devhost")
STATUSES = ("Running", "Pending", "Completed", "Failed", "Terminated", "Canceled", "ContinuedAsNew", "Suspended")
COLUMNS = ("instance", "name", "status", "stage", "progress", "updated", "message")


class InstancesError(Exception):
    """The status API could not be read."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost instances", description=__doc__)
    parser.add_argument("--functions-url", default=DEFAULT_FUNCTIONS_URL,
                        help=f"base URL of the functions host (default {DEFAULT_FUNCTIONS_URL})")
    parser.add_argument("--prefix", default="", help="only instance ids starting with this (e.g. op-<hash>-)")
    parser.add_argument("--status", default="", help=f"comma-separated runtime statuses, of {', '.join(STATUSES)}")
    parser.add_argument("--top", type=int, default=50, help="at most this many rows (default 50)")
    parser.add_argument("--watch", type=float, default=0.0, metavar="SECONDS",
                        help="refresh every SECONDS until Ctrl-C (default: print once)")
    parser.add_argument("--key", default="",
                        help="the host's durabletask system key or master key (the Durable API refuses function and "
                             "host keys); default: read from --data-dir for a host on this machine")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"data directory of `devhost functions` or `devhost up` whose {KEYS_FILE} holds the "
                             f"system key (default {DEFAULT_DATA_DIR})")
    return parser.parse_args(argv)


def durable_key(args: argparse.Namespace) -> str:
    """The key to send (devhost/durable_key.py): --key, else the local host's system key, else none."""
    try:
        return find_durable_key(str(args.key), str(args.functions_url), Path(args.data_dir))
    except DurableKeyError as error:
        raise InstancesError(str(error)) from None


def validate(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, or None."""
    if not str(args.functions_url).startswith(("http://", "https://")):
        return f"--functions-url must be an http(s) URL, got {args.functions_url!r}"
    unknown = [s for s in str(args.status).split(",") if s and s not in STATUSES]
    if unknown:
        return f"--status: unknown runtime status {', '.join(unknown)}; known: {', '.join(STATUSES)}"
    if args.top < 1:
        return f"--top must be at least 1, got {args.top}"
    if args.watch < 0:
        return f"--watch must not be negative, got {args.watch}"
    return None


async def fetch(session: aiohttp.ClientSession, args: argparse.Namespace) -> list[dict[str, Any]]:
    params = {"top": str(args.top), "showInput": "false"}
    if args.prefix:
        params["instanceIdPrefix"] = args.prefix
    if args.status:
        params["runtimeStatus"] = args.status
    key = durable_key(args)
    # In the header, not code=: the URL goes into error messages.
    headers = {"x-functions-key": key} if key else {}
    url = f"{str(args.functions_url).rstrip('/')}/runtime/webhooks/durabletask/instances/"
    try:
        async with session.get(url, params=params, headers=headers) as response:
            text = await response.text()
            if response.status == 401:
                raise InstancesError(f"{url} answered HTTP 401: the functions host checks keys and refused "
                                     f"{'the key sent' if key else 'a request without a key'}; pass --key with its "
                                     f"durabletask system key or master key, or --data-dir with its {KEYS_FILE}")
            if response.status != 200:
                raise InstancesError(f"{url} answered HTTP {response.status}: {text[:200]}")
    except (aiohttp.ClientError, TimeoutError) as error:
        raise InstancesError(f"cannot reach the functions host at {args.functions_url}: {error}") from None
    try:
        body = json.loads(text)
    except ValueError:
        raise InstancesError(f"{url} did not answer JSON (is it a functions host?): {text[:200]!r}") from None
    if not isinstance(body, list):
        raise InstancesError(f"{url} did not answer a JSON list")
    return [item for item in body if isinstance(item, dict)]


def row(instance: dict[str, Any]) -> tuple[str, ...]:
    status = instance.get("customStatus")
    # The project's progress shape (contract.Progress); other apps' custom status is shown as it is.
    try:
        progress = Progress.from_json(status)
    except ContractError:
        stage, done = "", ""
        message = "" if status is None else str(status)
    else:
        stage = progress.stage.value
        done = f"{progress.percent}% ({progress.step}/{progress.steps})"
        message = progress.message
    return (
        str(instance.get("instanceId", "")), str(instance.get("name", "")), str(instance.get("runtimeStatus", "")),
        stage, done, str(instance.get("lastUpdatedTime", "")), message[:60],
    )


def render(instances: Sequence[dict[str, Any]]) -> str:
    if not instances:
        return "(no orchestration instances)"
    rows = [COLUMNS, *(row(instance) for instance in instances)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


async def run(args: argparse.Namespace, out: TextIO) -> int:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                table = render(await fetch(session, args))
            except InstancesError as error:
                print(f"{PROG}: {error}", file=sys.stderr)
                return 1
            if args.watch:
                out.write("\x1b[H\x1b[2J")  # clear the screen, as `watch` does
            out.write(table + "\n")
            out.flush()
            if not args.watch:
                return 0
            await asyncio.sleep(args.watch)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    problem = validate(args)
    if problem is not None:
        print(f"{PROG}: {problem}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(run(args, sys.stdout))
    except KeyboardInterrupt:
        return 0
