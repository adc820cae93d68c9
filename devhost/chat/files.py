"""The files a terminal user sends with ``/file PATH``: read from disk and checked before anything is sent.

Sent as the Emulator sends an upload from its Web Chat: the bytes kept in the chat's attachment store, served back
on its Bot Connector face, and a message whose attachment points there (BotFramework-Emulator packages/app/main/src/
server/routes/directLine/handlers/upload.ts: {name, contentType, contentUrl: <serviceUrl>/v3/attachments/<id>/views/
original}, the same bytes kept as original and thumbnail).
"""

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from devhost.attachment_store import UPLOAD_LIMIT_BYTES
from devhost.chat.errors import FileRejected

DEFAULT_FILE_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class LocalFile:
    name: str
    content_type: str
    data: bytes


def read_local_file(path: Path) -> LocalFile:
    """The file at ``path`` (``~`` expanded), or FileRejected saying why it cannot be sent. Blocking: call it in a
    thread."""
    path = path.expanduser()
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise FileRejected(f"{path} is a directory, not a file")
        # Direct Line's limit, though the Emulator has none: what the bot gets here it must also get in Azure.
        if size > UPLOAD_LIMIT_BYTES:
            raise FileRejected(f"{path} is {size} bytes; Direct Line takes uploads of up to {UPLOAD_LIMIT_BYTES} "
                               "bytes (4 MB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise FileRejected(f"{path} does not exist") from None
    except OSError as error:
        raise FileRejected(f"cannot read {path}: {error.strerror or error}") from None
    content_type = mimetypes.guess_type(path.name)[0] or DEFAULT_FILE_TYPE
    return LocalFile(path.name, content_type, data)
