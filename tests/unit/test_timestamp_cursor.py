"""Timestamp cursors: valid RFC 3339, and exact keyset positions (pure)."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.clock import ms_to_rfc3339
from sessionscope.dialects import timestamp_cursor
from sessionscope.store.base import Cursor

MS = 1_749_573_921_822
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ID = "01976a9b-3a1e-7c3d-9f00-0123456789ab"


def test_cursor_is_an_rfc3339_timestamp_of_the_sessions_millisecond() -> None:
    text = timestamp_cursor.encode(MS, ID)
    assert text.startswith(ms_to_rfc3339(MS)[:-1]) and text.endswith("Z")
    fraction = text.split(".")[1].rstrip("Z")
    assert len(fraction) == 3 + timestamp_cursor.ID_DIGITS and fraction.isdigit()
    assert RFC3339.match(text)


def test_cursor_decodes_to_the_exact_keyset_position() -> None:
    assert timestamp_cursor.decode(timestamp_cursor.encode(MS, ID)) == Cursor(MS, ID)


@given(st.integers(0, 253_402_300_799_999), st.uuids())
def test_round_trip_for_any_time_and_id(created_ms: int, session_id: uuid.UUID) -> None:
    cursor = timestamp_cursor.decode(timestamp_cursor.encode(created_ms, str(session_id)))
    if session_id.int == 0:
        assert cursor == Cursor(created_ms, "")
    else:
        assert cursor == Cursor(created_ms, str(session_id))


@given(st.uuids(), st.uuids())
def test_cursor_order_follows_id_order(a: uuid.UUID, b: uuid.UUID) -> None:
    first, second = sorted([a, b], key=lambda u: u.int)
    text_a = timestamp_cursor.encode(MS, str(first))
    text_b = timestamp_cursor.encode(MS, str(second))
    assert (text_a <= text_b) == (str(first) <= str(second))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-10T16:45:21.822Z", Cursor(1749573921822, "")),
        ("2025-06-10T16:45:21Z", Cursor(1749573921000, "")),
        ("2025-06-10T16:45:21.8Z", Cursor(1749573921800, "")),
        ("2025-06-10T18:45:21.822+02:00", Cursor(1749573921822, "")),
        ("2025-06-10t16:45:21.822z", Cursor(1749573921822, "")),
        (
            "2025-06-10T16:45:21.822999999999999999999999999999999999999999Z",
            Cursor(1749573921823, ""),
        ),
    ],
)
def test_hand_written_timestamps_mean_strictly_before_them(text: str, expected: Cursor) -> None:
    assert timestamp_cursor.decode(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2025-06-10", "2025-06-10T16:45:21", "2025-13-10T16:45:21Z", "1749573921822"],
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        timestamp_cursor.decode(text)
