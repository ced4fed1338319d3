"""Keyset cursors that are RFC 3339 timestamps, for APIs whose cursor is "created before T".

Sessions are ordered by `(created_ms, id)`. Several sessions can share a millisecond, so a
plain timestamp cannot say where a page ended. The cursor therefore carries the session id
in the fractional digits beyond the millisecond: the 128-bit id as 39 decimal digits, a
position inside that millisecond that grows with the id. The result is still a valid
RFC 3339 timestamp, and "created strictly before it" means exactly "after it in the list".
A timestamp a person writes (no digits beyond the millisecond) means the usual thing.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from sessionscope.clock import ms_to_rfc3339
from sessionscope.store.base import Cursor

ID_DIGITS = 39  # 2**128 has 39 decimal digits
_RFC3339 = re.compile(
    r"^(?P<seconds>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def encode(created_ms: int, session_id: str) -> str:
    """The cursor just after a session: its creation time, then its id as sub-ms digits."""
    stamp = ms_to_rfc3339(created_ms)
    return f"{stamp[:-1]}{uuid.UUID(session_id).int:0{ID_DIGITS}d}Z"


def decode(text: str) -> Cursor:
    """The keyset position meaning "created strictly before `text`"; ValueError if malformed."""
    match = _RFC3339.match(text.strip())
    if match is None:
        raise ValueError("not an RFC 3339 timestamp")
    offset = match.group("offset").upper().replace("Z", "+00:00")
    whole = datetime.fromisoformat(match.group("seconds").upper() + offset)
    fraction = match.group("fraction") or ""
    millis = int(fraction[:3].ljust(3, "0"))
    created_ms = (whole - _EPOCH) // _MILLISECOND + millis
    position = int(fraction[3 : 3 + ID_DIGITS].ljust(ID_DIGITS, "0"))
    if position == 0:
        return Cursor(created_ms, "")  # before every id of that millisecond
    if position >= 1 << 128:
        return Cursor(created_ms + 1, "")  # after every id of that millisecond
    return Cursor(created_ms, str(uuid.UUID(int=position)))
