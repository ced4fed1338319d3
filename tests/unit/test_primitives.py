"""Ids, clocks, cursors, key material and the secret box."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.auth.keys import digest, issue_key
from sessionscope.auth.secretbox import MasterKeyError, SecretBox, decode_master_key, new_master_key
from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from sessionscope.http.errors import ApiError
from sessionscope.http.native import decode_cursor, encode_cursor
from sessionscope.ids import canonical_uuid, uuid7
from sessionscope.store.base import Cursor


def test_uuid7_is_version_7_and_time_ordered() -> None:
    first, second = uuid7(1_700_000_000_000), uuid7(1_700_000_000_001)
    assert uuid.UUID(first).version == 7 and uuid.UUID(first).variant == uuid.RFC_4122
    assert first < second
    assert int(first.replace("-", "")[:12], 16) == 1_700_000_000_000


def test_uuid7_ids_are_distinct_across_many_calls_and_threads() -> None:
    def make(count: int) -> list[str]:
        return [uuid7(1_700_000_000_000) for _ in range(count)]

    with ThreadPoolExecutor(4) as pool:
        batches = list(pool.map(make, [3000] * 4))
    ids = [one for batch in batches for one in batch]
    assert len(set(ids)) == len(ids) == 12_000


@given(st.uuids())
def test_canonical_uuid_accepts_every_spelling_of_a_uuid(ident: uuid.UUID) -> None:
    canonical = str(ident)
    for spelling in (canonical, canonical.upper(), ident.hex, f"{{{canonical}}}"):
        assert canonical_uuid(spelling) == canonical


@pytest.mark.parametrize("text", ["", "not-a-uuid", "0" * 31, "g" * 32, "0" * 8 + "-" * 4])
def test_canonical_uuid_refuses_what_is_not_a_uuid(text: str) -> None:
    with pytest.raises(ValueError):
        canonical_uuid(text)


@given(st.integers(min_value=-62_135_596_800_000, max_value=253_402_300_799_999))
def test_rfc3339_text_is_the_standard_librarys(ms: int) -> None:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    assert ms_to_rfc3339(ms) == moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@given(st.integers(min_value=0, max_value=253_402_300_799_999))
def test_rfc3339_round_trip(ms: int) -> None:
    text = ms_to_rfc3339(ms)
    assert text.endswith("Z") and len(text) == 24
    assert rfc3339_to_ms(text) == ms


def test_rfc3339_needs_an_offset() -> None:
    with pytest.raises(ValueError):
        rfc3339_to_ms("2026-01-01T00:00:00")
    assert rfc3339_to_ms("2026-01-01T01:00:00+01:00") == rfc3339_to_ms("2026-01-01T00:00:00Z")


@given(st.integers(min_value=0, max_value=2**48), st.uuids())
def test_cursor_round_trip(ms: int, ident: uuid.UUID) -> None:
    cursor = Cursor(ms, str(ident))
    assert decode_cursor(encode_cursor(cursor)) == cursor


@pytest.mark.parametrize("text", ["", "!!!", "e30", "WzEsMl0", "WyJ4IiwieSJd"])
def test_bad_cursors_are_refused(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        decode_cursor(text)
    assert caught.value.details == {"field": "cursor"}


def test_keys_store_only_digests() -> None:
    box = SecretBox(decode_master_key(new_master_key()))
    record, shown = issue_key(tenant="t", kind="hmac", box=box)
    assert shown.access_key is not None and shown.secret_key is not None
    assert record.digest == digest(shown.access_key)
    assert shown.secret_key not in (record.secret_ciphertext or "")
    assert box.open(record.secret_ciphertext or "") == shown.secret_key
    secret, view = issue_key(tenant="t", kind="secret")
    assert view.key and secret.digest == digest(view.key) and secret.scopes == ["read", "write"]


def test_secret_box_refuses_a_wrong_master_key() -> None:
    sealed = SecretBox(decode_master_key(new_master_key())).seal("s")
    with pytest.raises(MasterKeyError):
        SecretBox(decode_master_key(new_master_key())).open(sealed)
    with pytest.raises(MasterKeyError):
        decode_master_key("short")
