"""What the Direct Line service does, independent of HTTP: conversations, tokens, forwarding and the transcript.

Handlers in ``client_api`` (the Direct Line face) and ``connector_api`` (the Bot Connector face) only parse requests
and shape responses; the rules live here.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from devhost.attachment_store import AttachmentStore, StoredAttachment
from devhost.directline.attachment_links import AttachmentLinks, hidden
from devhost.directline.config import DirectLineConfig
from devhost.directline.conversations import Activity, Conversation, ConversationStore, parse_watermark
from devhost.directline.errors import BadRequest, DirectLineError, Forbidden, NotSupported, Throttled
from devhost.directline.forwarder import BotForwarder
from devhost.directline.stream_tokens import StreamTokenIssuer
from devhost.directline.streams import ConversationStreams
from devhost.directline.throttle import ConversationThrottle
from devhost.directline.tokens import Grant, TokenIssuer

log = logging.getLogger(__name__)

CHANNEL_ID = "directline"


@dataclass(frozen=True)
class StartedConversation:
    conversation: Conversation
    grant: Grant
    created: bool
    # Where its stream starts: the conversation as it was when the start arrived, so the bot's answer to the
    # start (a welcome) is replayed when the socket opens ("Timing considerations", receive-activities docs).
    stream_after: int


@dataclass(frozen=True)
class Reconnected:
    conversation: Conversation
    grant: Grant
    stream_after: int
    watermark: str | None


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def user_from_parameters(parameters: dict[str, Any]) -> dict[str, Any] | None:
    """The ``user`` of a TokenParameters body (tokens/generate, start conversation), validated."""
    user = parameters.get("user")
    if user is None:
        return None
    if not isinstance(user, dict):
        raise BadRequest("user must be an object")
    # DirectLineJS always sends {"user": {"id": <userId or undefined>}}, i.e. {"user": {}} without a user id.
    if user.get("id") is None:
        return None
    if not isinstance(user["id"], str) or not user["id"]:
        raise BadRequest("user.id must be a non-empty string")
    return {key: user[key] for key in ("id", "name") if key in user}


class DirectLineService:
    def __init__(self, config: DirectLineConfig, forwarder: BotForwarder) -> None:
        self.config = config
        self.conversations = ConversationStore()
        self.tokens = TokenIssuer(config.secret, config.token_ttl_seconds)
        self.stream_tokens = StreamTokenIssuer(config.stream_url_ttl_seconds)
        self.streams = ConversationStreams(config.stream_keepalive_seconds)
        # One store for both faces: what users upload and what the bot uploads (devhost/connector_attachments.py).
        self.attachments = AttachmentStore()
        self.attachment_links = AttachmentLinks(self.attachments, config.token_ttl_seconds)
        self._forwarder = forwarder
        self.bot_account: dict[str, Any] = {"id": config.bot_id, "name": config.bot_name, "role": "bot"}
        # Throttling (``--throttle``), off when there are no rules: clients' posts and the bot's posts are counted
        # apart, as the service names them apart ("a bot sends messages too frequently", "a client of a bot ...").
        self.client_posts = ConversationThrottle(config.throttle) if config.throttle else None
        self.bot_posts = ConversationThrottle(config.throttle) if config.throttle else None

    # --- tokens ---------------------------------------------------------------------------------------------

    def generate_token(self, grant: Grant, parameters: dict[str, Any]) -> Grant:
        """A token for a conversation that starts when the token is first used (tokens/generate)."""
        if not grant.is_secret:
            raise Forbidden("tokens/generate needs the secret, not a token")
        return self.tokens.issue(self.conversations.new_id(), user_from_parameters(parameters))

    def refresh_token(self, grant: Grant) -> Grant:
        if grant.is_secret or grant.conversation_id is None:
            raise Forbidden("only a token can be refreshed; the secret does not expire")
        return self.tokens.issue(grant.conversation_id, grant.user)

    # --- conversations ----------------------------------------------------------------------------------------

    async def start_conversation(
        self, grant: Grant, parameters: dict[str, Any], service_url: str
    ) -> StartedConversation:
        user = grant.user or user_from_parameters(parameters)
        if grant.conversation_id is not None:
            existing = self.conversations.find(grant.conversation_id)
            if existing is not None:
                # "it does not include messages that were sent prior to the most recent POST to
                # /v3/directline/conversations/{id}" (receive-activities docs): the new stream starts now.
                return StartedConversation(existing, grant, created=False, stream_after=existing.last_sequence)
            conversation = self.conversations.create(grant.conversation_id)
            token = grant
        else:
            conversation = self.conversations.create(self.conversations.new_id())
            token = self.tokens.issue(conversation.id, user)
        conversation.members[self.bot_account["id"]] = self.bot_account
        added = [self.bot_account]
        if user is not None:
            conversation.members[user["id"]] = user
            added.append(user)
        log.info("conversation started: conversation_id=%s", conversation.id)
        try:
            await self._deliver_members_added(conversation, added, user, service_url)
        except DirectLineError as error:
            # Direct Line starts the conversation even when the bot is down; the client learns about the bot on
            # its first post (502). Failing the start would hide that the conversation exists.
            log.warning("conversationUpdate not delivered: conversation_id=%s error=%s", conversation.id, error.message)
        return StartedConversation(conversation, token, created=True, stream_after=0)

    def reconnect(self, grant: Grant, conversation_id: str, watermark: str | None) -> Reconnected:
        """A new streamUrl for the conversation ("Reconnect to a conversation", Direct Line 3.0 docs): "If the
        watermark parameter is specified in the request URI, the conversation replays from the watermark [...]. If
        the watermark parameter is omitted from the request URI, only messages received after the reconnect request
        are replayed." DirectLineJS sends ``?watermark=`` (empty) before it has one; an empty value is taken as
        omitted, as ASP.NET model binding reads an empty query value as null."""
        grant.check_conversation(conversation_id)
        conversation = self.conversations.get(conversation_id)
        # The secret holder gets a token for the conversation, as a start would give.
        token = grant if not grant.is_secret else self.tokens.issue(conversation.id)
        if watermark:
            return Reconnected(conversation, token, parse_watermark(watermark), watermark)
        return Reconnected(conversation, token, conversation.last_sequence, None)

    def stream_token(self, conversation: Conversation, after: int) -> str:
        """The ``t`` of a streamUrl: opens this conversation's stream, resuming after ``after``, for a short while."""
        return self.stream_tokens.issue(conversation.id, after)

    def activities(self, grant: Grant, conversation_id: str, watermark: str | None) -> tuple[list[Activity], str]:
        grant.check_conversation(conversation_id)
        return self.conversations.get(conversation_id).activities_after(watermark)

    # --- client -> bot -----------------------------------------------------------------------------------------

    async def post_from_client(self, grant: Grant, conversation_id: str, activity: Activity, service_url: str,
                               files: list[StoredAttachment] | None = None) -> str:
        """Forward a client's activity to the bot; ``files`` (an upload's) replace its attachments."""
        grant.check_conversation(conversation_id)
        conversation = self.conversations.get(conversation_id)
        _admit(self.client_posts, conversation.id, "TooManyRequests")
        validate_client_activity(activity)
        sender = dict(activity["from"])
        if grant.user is not None:
            # A user embedded in the token wins over what the client claims (Direct Line enhanced auth).
            sender["id"] = grant.user["id"]
        if sender["id"] not in conversation.members:
            # The user joins on their first post (Direct Line docs), so the bot hears about them first.
            conversation.members[sender["id"]] = sender
            try:
                await self._deliver_members_added(conversation, [sender], sender, service_url)
            except DirectLineError:
                del conversation.members[sender["id"]]
                raise
        sequence, activity_id = conversation.next_id()
        forwarded: Activity = {**activity, "from": sender, **self._to_bot(conversation, activity_id, service_url)}
        recorded = forwarded
        if files:
            # "Other parts in the payload are attached to this activity" (Direct Line 3.0 swagger, upload): the
            # uploaded files are its attachments; DirectLineJS's template lists them without contentUrl.
            forwarded["attachments"] = self.attachment_links.publish(service_url, conversation.id, sequence, files)
            recorded = {**forwarded, "attachments": hidden(forwarded["attachments"])}
        # The echo goes into the transcript before the bot sees the activity, so it precedes the bot's replies
        # (Web Chat marks a message "sent" only when its echo, with channelData.clientActivityID, arrives).
        conversation.record(sequence, recorded)
        self.streams.wake(conversation.id)
        await self._forwarder.deliver(forwarded)
        return activity_id

    async def _deliver_members_added(
        self, conversation: Conversation, added: list[dict[str, Any]], sender: dict[str, Any] | None, service_url: str
    ) -> None:
        _, activity_id = conversation.next_id()
        await self._forwarder.deliver({
            "type": "conversationUpdate",
            "membersAdded": added,
            # botbuilder handlers read from.id, so never leave it out even when no user is known yet.
            "from": sender or {"id": CHANNEL_ID, "name": "Direct Line"},
            **self._to_bot(conversation, activity_id, service_url),
        })

    def _to_bot(self, conversation: Conversation, activity_id: str, service_url: str) -> dict[str, Any]:
        """What Direct Line sets on every activity it forwards to the bot, whatever the client sent."""
        return {
            "channelId": CHANNEL_ID,
            "serviceUrl": service_url,
            "conversation": {"id": conversation.id},
            "id": activity_id,
            "timestamp": utc_timestamp(),
            "recipient": self.bot_account,
        }

    # --- bot -> client (Bot Connector) ---------------------------------------------------------------------

    def receive_from_bot(self, conversation_id: str, activity: Activity, reply_to_id: str | None) -> str:
        # The Bot Connector routes (devhost/botconnector.py) have checked the activity's type and conversation.
        conversation = self.conversations.get(conversation_id)
        _admit(self.bot_posts, conversation.id, "Throttled")
        sequence, activity_id = conversation.next_id()
        stamped: Activity = {
            **activity,
            "id": activity_id,
            "channelId": CHANNEL_ID,
            "conversation": {**(activity.get("conversation") or {}), "id": conversation.id},
            "timestamp": activity.get("timestamp") or utc_timestamp(),
        }
        if reply_to_id is not None:
            stamped.setdefault("replyToId", reply_to_id)
        conversation.record(sequence, stamped)
        self.streams.wake(conversation.id)
        return activity_id

    def update_from_bot(self, conversation_id: str, activity_id: str, activity: Activity) -> str:
        """Refused, as the real Direct Line channel refuses it: HTTP 405 with code BadArgument and "This channel does
        not support this operation" (microsoft/botframework-sdk issue #4734, UpdateActivity on the Web Chat and
        Direct Line channels; botbuilder-dotnet #3278 and BotFramework-WebChat #2426: Web Chat has no update)."""
        self.conversations.get(conversation_id)
        raise NotSupported("This channel does not support this operation")

    def delete_from_bot(self, conversation_id: str, activity_id: str) -> None:
        self.conversations.get(conversation_id).delete(activity_id)

    def members(self, conversation_id: str) -> list[dict[str, Any]]:
        return list(self.conversations.get(conversation_id).members.values())


def _admit(throttle: ConversationThrottle | None, conversation_id: str, code: str) -> None:
    if throttle is None:
        return
    wait = throttle.admit(conversation_id)
    if wait is not None:
        rules = ", ".join(str(rule) for rule in throttle.rules)
        log.info("post throttled: conversation_id=%s retry_after=%g", conversation_id, wait)
        raise Throttled(f"too many requests to conversation {conversation_id!r} (at most {rules}); "
                        f"retry after {wait:g} s", wait, code)


def validate_client_activity(activity: Activity) -> None:
    if not isinstance(activity.get("type"), str) or not activity["type"]:
        raise BadRequest("activity.type is required", code="MissingProperty")
    sender = activity.get("from")
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), str) or not sender["id"]:
        raise BadRequest("activity.from.id is required", code="MissingProperty")
