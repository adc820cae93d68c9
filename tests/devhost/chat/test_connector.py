"""The Bot Connector routes the chat client serves: send, reply, update, delete, members, errors."""

import asyncio
from urllib.parse import quote

import aiohttp

from tests.devhost.chat.harness import chatting


def test_update_delete_members_and_errors_on_the_connector_routes() -> None:
    async def scenario() -> None:
        async with chatting() as h:
            conversation = await h.client.start_conversation(h.view)
            base = f"{h.client.service_url}/v3/conversations/{quote(conversation.id, safe='')}"
            async with aiohttp.ClientSession() as http:
                async with http.post(f"{base}/activities", json={"type": "message", "text": "hello"}) as response:
                    assert response.status == 200
                    activity_id = (await response.json())["id"]
                assert conversation.bot_texts()[-1] == "hello"
                async with http.put(f"{base}/activities/{activity_id}",
                                    json={"type": "message", "text": "hello again"}) as response:
                    # As the Emulator: the body must carry the URL's id.
                    assert response.status == 400
                    assert (await response.json())["error"] == {
                        "code": "BadArgument", "message": "uri activity id does not match payload activity id"}
                async with http.put(f"{base}/activities/{activity_id}",
                                    json={"type": "message", "id": activity_id, "text": "hello again"}) as response:
                    assert response.status == 200
                assert conversation.bot_texts()[-1] == "hello again"
                assert h.lines()[-1] == "bot (edited): hello again"
                async with http.put(f"{base}/activities/{activity_id}", json={"type": "message", "id": "x"}) as r:
                    assert r.status == 400
                unknown = {"type": "message", "id": "unknown"}
                async with http.put(f"{base}/activities/unknown", json=unknown) as response:
                    assert response.status == 404
                async with http.delete(f"{base}/activities/{activity_id}") as response:
                    assert response.status == 200
                assert "hello again" not in conversation.bot_texts()
                assert h.lines()[-1] == "bot deleted a message"
                async with http.get(f"{base}/members") as response:
                    assert [m["id"] for m in await response.json()] == [conversation.user["id"], "bot"]
                async with http.get(f"{base}/members/bot") as response:
                    assert (await response.json())["role"] == "bot"
                async with http.post(f"{base}/activities", data=b"{oops",
                                     headers={"Content-Type": "application/json"}) as response:
                    assert response.status == 400
                    assert "not valid JSON" in (await response.json())["error"]["message"]
                unknown = f"{h.client.service_url}/v3/conversations/nope/activities"
                async with http.post(unknown, json={"type": "message"}) as response:
                    assert response.status == 404
                # A trailing-slash serviceUrl glued to an absolute path.
                async with http.post(f"{h.client.service_url}//v3/conversations/{quote(conversation.id, safe='')}"
                                     "/activities", json={"type": "message", "text": "slashes"}) as response:
                    assert response.status == 200
                assert conversation.bot_texts()[-1] == "slashes"

    asyncio.run(scenario())


def test_an_id_with_braces_reaches_the_channel_and_gets_its_json_error() -> None:
    """The shared routes (devhost/botconnector.py) take any id but a slash; aiohttp's default pattern refused braces
    with a bare "no route" 404, before the chat could say which conversation it does not know."""

    async def scenario() -> None:
        async with chatting() as h, aiohttp.ClientSession() as http:
            url = f"{h.client.service_url}/v3/conversations/{quote('{odd}|livechat', safe='')}/activities/{{x}}"
            async with http.post(url, json={"type": "message", "text": "hi"}) as response:
                assert response.status == 404
                assert (await response.json())["error"]["message"] == "conversation '{odd}|livechat' not found"

    asyncio.run(scenario())


def test_a_bad_activity_is_a_400_naming_the_field_and_an_oversized_one_a_json_413() -> None:
    async def scenario() -> None:
        async with chatting() as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation(h.view)
            url = f"{h.client.service_url}/v3/conversations/{quote(conversation.id, safe='')}/activities"
            cases = [
                ({"type": "message", "text": "x", "conversation": "x"}, "BadArgument", "activity.conversation"),
                ({"text": "no type"}, "MissingProperty", "activity.type"),
                ({"type": "", "text": "empty type"}, "MissingProperty", "activity.type"),
            ]
            for activity, code, field in cases:
                async with http.post(url, json=activity) as response:
                    assert response.status == 400, activity
                    error = (await response.json())["error"]
                    assert error["code"] == code
                    assert error["message"].startswith(field)
                async with http.post(f"{url}/some-id", json=activity) as response:
                    assert response.status == 400, activity
            huge = {"type": "message", "text": "x" * (1024 * 1024)}
            async with http.post(url, json=huge) as response:
                assert response.status == 413
                assert (await response.json())["error"]["code"] == "MessageSizeTooBig"
            assert "x" not in conversation.bot_texts()

    asyncio.run(scenario())


def test_fields_of_the_wrong_type_are_shown_as_far_as_possible_not_a_500() -> None:
    async def scenario() -> None:
        async with chatting() as h, aiohttp.ClientSession() as http:
            conversation = await h.client.start_conversation(h.view)
            url = f"{h.client.service_url}/v3/conversations/{quote(conversation.id, safe='')}/activities"
            odd = {"type": "message", "text": "odd", "suggestedActions": "x", "attachments": 5}
            async with http.post(url, json=odd) as response:
                assert response.status == 200
            card = {"type": "message", "text": "card", "attachments": [
                {"contentType": "application/vnd.microsoft.card.hero", "content": "not an object"}]}
            async with http.post(url, json=card) as response:
                assert response.status == 200
            assert conversation.bot_texts()[-2:] == ["odd", "card"]
            assert conversation.choices == []

    asyncio.run(scenario())
