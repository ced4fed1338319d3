"""Time in one place: RFC 3339 text (UTC, milliseconds) and epoch milliseconds."""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_MILLISECOND = timedelta(milliseconds=1)
_SECOND = timedelta(seconds=1)
_MILLISECONDS = tuple(f"{ms:03d}Z" for ms in range(1000))  # the end of every timestamp
_offset_ms = 0


def set_offset_ms(offset: int) -> None:
    """Shift this process's clock (SESSIONSCOPE_CLOCK_OFFSET_SECONDS): every reader of
    `now_ms` agrees on the shifted time, which lets tests and demos see timers run out."""
    global _offset_ms  # noqa: PLW0603 - one process-wide setting, set once at start
    _offset_ms = offset


def now_ms() -> int:
    return time.time_ns() // 1_000_000 + _offset_ms


def ms_to_rfc3339(ms: int) -> str:
    return _second_text(ms // 1000) + _MILLISECONDS[ms % 1000]


@functools.lru_cache(maxsize=4096)
def _second_text(second: int) -> str:
    """A second as text up to its milliseconds ("2026-11-23T14:05:09."), cached: one session
    formats the same second many times."""
    moment = _NAIVE_EPOCH + second * _SECOND  # integer arithmetic: no float rounding
    return moment.isoformat(timespec="seconds") + "."  # strftime's %Y drops a year's zeros


@functools.lru_cache(maxsize=4096)
def rfc3339_to_ms(text: str) -> int:
    """Parse an RFC 3339 timestamp; naive times are refused.

    Cached: judging one session reads its own few timestamps again and again.
    """
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp needs a UTC offset or Z")
    return (moment - _EPOCH) // _MILLISECOND
