"""Meter periods: where the period holding a moment starts and ends, in epoch milliseconds.

Calendar periods follow the wall clock of a time zone: a day starts at local midnight
(so a day can last 23 or 25 hours across a daylight-saving change), a week on Monday, a
month on its first day. A relative period starts at the moment given (the first use).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sessionscope.access.model import CalendarPeriod, Period

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_UNIT_MS = {"hours": 3_600_000, "days": 86_400_000}


def period_bounds(period: Period, at_ms: int) -> tuple[int, int]:
    """[start, end) of the period a use at `at_ms` falls in (or would start)."""
    if isinstance(period, CalendarPeriod):
        return calendar_bounds(period.unit, period.time_zone, at_ms)
    return at_ms, at_ms + period.length * _UNIT_MS[period.unit]


def calendar_bounds(
    unit: Literal["day", "week", "month"], time_zone: str, at_ms: int
) -> tuple[int, int]:
    zone = ZoneInfo(time_zone)
    today = (_EPOCH + at_ms * _MILLISECOND).astimezone(zone).date()
    first, following = _calendar_days(unit, today)
    return _local_midnight_ms(first, zone), _local_midnight_ms(following, zone)


def _calendar_days(unit: Literal["day", "week", "month"], today: date) -> tuple[date, date]:
    """The first day of the unit holding `today`, and the first day of the next one."""
    if unit == "day":
        return today, today + timedelta(days=1)
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=7)
    first = today.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _local_midnight_ms(day: date, zone: ZoneInfo) -> int:
    """The first instant of `day` in `zone`.

    Where midnight falls in a daylight-saving gap, the offset before the change applies
    (fold=0), which lands exactly on the change: the day's first existing instant.
    """
    midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (midnight - _EPOCH) // _MILLISECOND
