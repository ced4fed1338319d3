"""Time in one place: RFC 3339 text (UTC, milliseconds) and epoch milliseconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_offset_ms = 0


def set_offset_ms(offset: int) -> None:
    """Shift this process's clock (SESSIONSCOPE_CLOCK_OFFSET_SECONDS): every reader of
    `now_ms` agrees on the shifted time, which lets tests and demos see timers run out."""
    global _offset_ms  # noqa: PLW0603 - one process-wide setting, set once at start
    _offset_ms = offset


def now_ms() -> int:
    return time.time_ns() // 1_000_000 + _offset_ms


def ms_to_rfc3339(ms: int) -> str:
    moment = _EPOCH + ms * _MILLISECOND  # integer arithmetic: no float rounding
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def rfc3339_to_ms(text: str) -> int:
    """Parse an RFC 3339 timestamp; naive times are refused."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset or Z")
    return (moment - _EPOCH) // _MILLISECOND
