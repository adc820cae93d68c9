"""The WebSocket streams: one open socket per conversation, fed from the conversation's transcript.

What Direct Line documents ("Receive activities from the bot", Direct Line 3.0 docs) and this copies:

- a socket gets ActivitySets, ``{"activities": [...], "watermark": "N"}``, with the activities after its start point,
  the client's own echoes included; the first set replays what came after that point and before the socket opened;
- an idle socket gets an empty message now and then "to ensure the connection is still valid"; clients ignore it
  (DirectLineJS's ``onmessage`` parses only non-empty data, src/directLine.ts ``observableWebSocket``);
- the client may send empty messages to check the connection (DirectLineJS sends ``""`` every ``timeout``, 20 s, for
  Chrome's sake) and the service ignores them; the stream carries nothing else from the client (activities are
  POSTed), so a non-empty message is ignored too, with a warning;
- "The service allows only 1 WebSocket connection per conversation. Direct Line may close additional WebSocket
  connections with a reason value of ``collision``": the socket already open keeps the stream and the newcomer is
  closed with reason ``collision``. The close code is not documented; 1008 (policy violation) is the standard one
  for a refusal by policy.

A socket the service closes makes DirectLineJS wait 3-15 s, ask ``GET /conversations/{id}?watermark=W`` for a new
streamUrl and open that (``webSocketActivity$``/``reconnectToConversation``), so nothing is lost across a close.
"""

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from aiohttp import WSCloseCode, WSMsgType, web

from devhost.directline.conversations import Conversation

log = logging.getLogger(__name__)

COLLISION = "collision"


@dataclass
class _OpenStream:
    socket: web.WebSocketResponse
    wake: asyncio.Event = field(default_factory=asyncio.Event)


class ConversationStreams:
    """The open socket of each conversation; ``wake`` tells it the transcript has grown."""

    def __init__(self, keepalive_seconds: float) -> None:
        self._keepalive = keepalive_seconds
        self._open: dict[str, _OpenStream] = {}

    def is_open(self, conversation_id: str) -> bool:
        return conversation_id in self._open

    def wake(self, conversation_id: str) -> None:
        stream = self._open.get(conversation_id)
        if stream is not None:
            stream.wake.set()

    async def close(self, conversation_id: str, code: int = WSCloseCode.GOING_AWAY, reason: str = "") -> bool:
        """Close the conversation's socket, as the service may "forcibly close the WebSocket connection under
        certain conditions" (docs). False if none was open."""
        stream = self._open.get(conversation_id)
        if stream is None:
            return False
        await stream.socket.close(code=code, message=reason.encode())
        return True

    async def close_all(self) -> None:
        """On shutdown: an open socket would otherwise hold the server's graceful stop for its whole timeout."""
        for conversation_id in list(self._open):
            await self.close(conversation_id, WSCloseCode.GOING_AWAY, "service shutting down")

    async def serve(self, conversation: Conversation, socket: web.WebSocketResponse, after: int) -> None:
        """Run an opened socket until either side closes it."""
        if conversation.id in self._open:
            log.warning("second stream refused (collision): conversation_id=%s", conversation.id)
            await socket.close(code=WSCloseCode.POLICY_VIOLATION, message=COLLISION.encode())
            return
        stream = _OpenStream(socket)
        self._open[conversation.id] = stream
        log.info("stream opened: conversation_id=%s after=%d", conversation.id, after)
        sender = asyncio.create_task(self._send(conversation, stream, after))
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT and message.data.strip():
                    log.warning("stream message from the client ignored (activities are POSTed): conversation_id=%s",
                                conversation.id)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            if self._open.get(conversation.id) is stream:
                del self._open[conversation.id]
            log.info("stream closed: conversation_id=%s code=%s", conversation.id, socket.close_code)

    async def _send(self, conversation: Conversation, stream: _OpenStream, after: int) -> None:
        stream.wake.set()  # the first round replays what came after the start point
        try:
            while not stream.socket.closed:
                try:
                    await asyncio.wait_for(stream.wake.wait(), self._keepalive)
                except TimeoutError:
                    await stream.socket.send_str("")
                    continue
                stream.wake.clear()
                activities, after = conversation.stream_after(after)
                if activities:
                    await stream.socket.send_json({"activities": activities, "watermark": str(after)})
        except ConnectionError as error:
            # The peer went away mid-send; the reader sees the close and ends the stream.
            log.info("stream send failed: conversation_id=%s error=%s", conversation.id, error)
