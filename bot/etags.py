"""The eTag of a stored item, as SqliteStorage and BlobStorage both read and write it, so they cannot drift apart.

botbuilder's state items carry their eTag inside: ``e_tag`` in a dict (ConversationState's items) or as an attribute
(a StoreItem). The stores keep it beside the stored item, never inside it.
"""

from typing import Any

# An item whose eTag is "*" is written whatever the stored eTag (last writer wins), as with no eTag at all.
ANY_ETAG = "*"


def get_etag(item: object) -> str | None:
    value = item.get("e_tag") if isinstance(item, dict) else getattr(item, "e_tag", None)
    return value if isinstance(value, str) else None


def set_etag(item: Any, etag: str) -> None:
    if isinstance(item, dict):
        item["e_tag"] = etag
    elif hasattr(item, "__dict__"):
        item.e_tag = etag


def without_etag(item: object) -> object:
    # The eTag lives beside the item (a column, the blob's ETag); storing it inside too would only let the two disagree.
    if isinstance(item, dict) and "e_tag" in item:
        return {key: value for key, value in item.items() if key != "e_tag"}
    return item
