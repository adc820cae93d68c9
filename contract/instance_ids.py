"""Instance ids that carry the conversation: ``op-<hash of channel+conversation>-<random>``.

The hash makes ``instanceIdPrefix`` find every operation of one conversation in the status API, the
Portal and DfMon, without putting a (possibly personal) conversation id into storage keys.
"""

import hashlib
import re

_PREFIX = "op-"
_HASH_CHARS = 12
_SUFFIX = re.compile(r"^[0-9a-z]{6,32}$")


def _conversation_key(channel_id: str, conversation_id: str) -> str:
    """A short stable hash of one conversation on one channel."""
    digest = hashlib.sha256(f"{channel_id}\n{conversation_id}".encode()).hexdigest()
    return digest[:_HASH_CHARS]


def instance_id_prefix(channel_id: str, conversation_id: str) -> str:
    """The prefix shared by every operation instance of this conversation."""
    return f"{_PREFIX}{_conversation_key(channel_id, conversation_id)}-"


def make_instance_id(channel_id: str, conversation_id: str, random_suffix: str) -> str:
    """An instance id for a new operation; ``random_suffix`` is lowercase hex or base36 (6-32 chars)."""
    if not _SUFFIX.match(random_suffix):
        raise ValueError("random_suffix must be 6-32 lowercase letters or digits")
    return instance_id_prefix(channel_id, conversation_id) + random_suffix
