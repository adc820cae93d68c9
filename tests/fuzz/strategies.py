"""Generated bad input shared by the fuzz modules."""

import json
from typing import Any

from hypothesis import strategies as st

# Any JSON value, nested a little: the "wrong type" for whatever field it lands in.
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)

# Arbitrary bytes, biased towards JSON-looking starts so parsers get past the first character.
raw_bodies: st.SearchStrategy[bytes] = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda head, tail: head + tail, st.sampled_from([b"{", b"[", b'{"', b'"', b"\xef\xbb\xbf{", b"{}}"]),
              st.binary(max_size=100)),
    st.text(max_size=100).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
)


def is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


not_json_bodies = raw_bodies.filter(lambda body: bool(body.strip()) and not is_json(body))

# Characters a Durable instance id must not contain (reference §C3): '/', '\\', '#', '?' and control characters.
_BAD_ID_CHARS = st.sampled_from(["/", "\\", "#", "?", "\x00", "\n", "\t", "\x1f", "\x7f"])

# Ids the Durable API must refuse when starting: bad characters anywhere, over 256 characters, a leading '@'.
invalid_instance_ids: st.SearchStrategy[str] = st.one_of(
    st.builds(lambda a, bad, b: a + bad + b, st.text(max_size=20), _BAD_ID_CHARS, st.text(max_size=20)),
    st.text(min_size=257, max_size=400).filter(lambda text: len(text) > 256),
    st.text(max_size=20).map(lambda text: "@" + text),
)

# Ids nobody started: unicode, odd characters, very long; a prefix keeps them apart from real ones.
unknown_instance_ids: st.SearchStrategy[str] = st.one_of(
    invalid_instance_ids,
    st.text(min_size=1, max_size=60).map(lambda text: "fuzz-" + text),
)

# Text as a query parameter value: numbers in odd spellings, garbage, unicode.
query_values: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["-1", "0", "abc", "1.5", "nan", "inf", "-inf", "1e400", "", " ", "0x10", "true", "null",
                     "9999-99-99", "2024-13-45T25:61:61Z", "yesterday", "\x00", "\uff11\uff12"]),
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.text(max_size=30),
)
