"""The Bot Connector face the bot replies on: routes, id decoding, trailing slashes, updates, deletes, members."""

import asyncio

from yarl import URL

from tests.devhost.directline.harness import running


def test_reply_route_with_percent_encoded_ids_and_double_slash_lands_in_transcript() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            _, posted = await h.say(conversation_id, "hi")
            # botbuilder quotes "|" in ids; a client gluing "<serviceUrl>/" + "/v3/..." makes a double slash.
            path = f"//v3/conversations/{conversation_id}/activities/{posted['id'].replace('|', '%7C')}"
            reply = {"type": "message", "text": "manual reply", "from": {"id": "bot"}}
            async with h.http.post(URL(h.directline.base_url + path, encoded=True), json=reply) as response:
                assert response.status == 200
                reply_id = (await response.json())["id"]
            activities = (await h.activities(conversation_id))["activities"]
            manual = activities[-1]
            assert (manual["id"], manual["text"], manual["replyToId"]) == (reply_id, "manual reply", posted["id"])
            assert manual["conversation"]["id"] == conversation_id

    asyncio.run(scenario())


def test_send_to_unknown_conversation_is_404() -> None:
    async def scenario() -> None:
        async with running() as h:
            url = f"{h.directline.base_url}/v3/conversations/unknown/activities"
            async with h.http.post(url, json={"type": "message", "text": "x"}) as response:
                assert response.status == 404
                assert (await response.json())["error"]["code"] == "BadArgument"

    asyncio.run(scenario())


def test_a_bots_update_is_refused_as_the_direct_line_channel_refuses_it() -> None:
    # HTTP 405, BadArgument, "This channel does not support this operation" (microsoft/botframework-sdk #4734).
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            await h.say(conversation_id, "edit")
            texts = [a["text"] for a in (await h.activities(conversation_id))["activities"]]
            assert texts == ["edit", "before edit", "could not edit: HTTP 405"]
            reply_id = (await h.activities(conversation_id))["activities"][1]["id"]
            base = f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities"
            async with h.http.put(f"{base}/{reply_id}", json={"type": "message", "id": reply_id}) as response:
                assert response.status == 405
                assert await response.json() == {"error": {
                    "code": "BadArgument", "message": "This channel does not support this operation"}}

    asyncio.run(scenario())


def test_delete_removes_and_unknown_is_404() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            await h.say(conversation_id, "hi")
            reply_id = (await h.activities(conversation_id))["activities"][-1]["id"]
            base = f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities"
            async with h.http.delete(f"{base}/{reply_id}") as response:
                assert response.status == 200
            assert [a["text"] for a in (await h.activities(conversation_id))["activities"]] == ["hi"]
            async with h.http.delete(f"{base}/{reply_id}") as response:
                assert response.status == 404

    asyncio.run(scenario())


def test_members_lists_bot_and_user() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start(user_id="user-9"))["conversationId"]
            base = f"{h.directline.base_url}/v3/conversations/{conversation_id}"
            async with h.http.get(f"{base}/members") as response:
                assert response.status == 200
                assert [m["id"] for m in await response.json()] == ["bot", "user-9"]
            async with h.http.get(f"{base}/members/user-9") as response:
                assert (await response.json())["id"] == "user-9"
            async with h.http.get(f"{base}/members/nobody") as response:
                assert response.status == 404

    asyncio.run(scenario())


def test_a_bad_activity_from_the_bot_is_a_400_naming_the_field_on_every_route() -> None:
    async def scenario() -> None:
        async with running() as h:
            conversation_id = (await h.start())["conversationId"]
            base = f"{h.directline.base_url}/v3/conversations/{conversation_id}/activities"
            cases = [
                ({"type": "message", "text": "x", "conversation": "x"}, "BadArgument", "activity.conversation"),
                ({"type": "message", "text": "x", "conversation": 7}, "BadArgument", "activity.conversation"),
                ({"text": "no type"}, "MissingProperty", "activity.type"),
                ({"type": 3}, "MissingProperty", "activity.type"),
            ]
            for activity, code, field in cases:
                for method, url in (("POST", base), ("POST", f"{base}/reply-to"), ("PUT", f"{base}/some-id")):
                    async with h.http.request(method, url, json=activity) as response:
                        assert response.status == 400, (method, url, activity)
                        assert response.headers["Access-Control-Allow-Origin"] == "*"
                        error = (await response.json())["error"]
                        assert error["code"] == code
                        assert error["message"].startswith(field)
            texts = [a.get("text") for a in (await h.activities(conversation_id))["activities"]]
            assert "x" not in texts

    asyncio.run(scenario())
