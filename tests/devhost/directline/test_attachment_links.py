"""The private links of uploaded files, with a controlled clock: what opens a file and what is refused."""

import pytest

from devhost.attachment_store import AttachmentStore
from devhost.directline.attachment_links import AttachmentLinks
from devhost.directline.errors import ActivityNotFound, Forbidden


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_link_opens_its_file_until_it_expires() -> None:
    store, clock = AttachmentStore(), Clock()
    links = AttachmentLinks(store, ttl_seconds=60, clock=clock)
    notes = store.add("text/plain", "my notes.txt", b"notes")
    [published] = links.publish("http://127.0.0.1:8181/", "conv|1", 7, [notes])
    assert published["name"] == "my notes.txt"
    url, token = published["contentUrl"].split("?t=")
    assert url == "http://127.0.0.1:8181/attachments/conv%7C1/0000007/0/my%20notes.txt"
    assert links.open("conv|1", 7, 0, token) is notes
    clock.now += 60
    with pytest.raises(Forbidden) as expired:
        links.open("conv|1", 7, 0, token)
    assert (expired.value.code, expired.value.message) == (
        "TokenExpired", "Token expired: the attachment URL is no longer valid")


def test_a_token_opens_only_the_files_of_its_own_activity() -> None:
    store = AttachmentStore()
    links = AttachmentLinks(store, ttl_seconds=60)
    first = links.publish("http://h/", "conv", 1, [store.add("text/plain", "a.txt", b"a")])
    links.publish("http://h/", "conv", 2, [store.add("text/plain", "b.txt", b"b")])
    token = first[0]["contentUrl"].split("?t=")[1]
    with pytest.raises(Forbidden):
        links.open("conv", 2, 0, token)
    with pytest.raises(ActivityNotFound) as missing:
        links.open("conv", 1, 1, token)
    assert missing.value.message == "no attachment 1 on activity 0000001 of conversation 'conv'"
