"""Access rules as pure functions: periods in time zones, consumption, catalogs."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessionscope.access.catalog import Catalog
from sessionscope.access.decide import transform_content
from sessionscope.access.model import (
    AccessDefaults,
    Bundle,
    CalendarPeriod,
    Entitlement,
    Meter,
    RelativePeriod,
)
from sessionscope.access.periods import calendar_bounds, period_bounds
from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from sessionscope.store.allowance import ConsumePlan, Usage, settle

HOUR = 3_600_000


def bounds(unit: str, zone: str, at: str) -> tuple[str, str]:
    """The period holding `at`, to the minute: (start, end)."""
    start, end = calendar_bounds(unit, zone, rfc3339_to_ms(at))  # type: ignore[arg-type]
    return ms_to_rfc3339(start)[:16], ms_to_rfc3339(end)[:16]


@pytest.mark.parametrize(
    ("unit", "zone", "at", "start", "end"),
    [
        # London midnight is 00:00Z in winter and 23:00Z the day before in summer.
        ("day", "Europe/London", "2026-01-15T12:00Z", "2026-01-15T00:00", "2026-01-16T00:00"),
        ("day", "Europe/London", "2026-07-15T22:59Z", "2026-07-14T23:00", "2026-07-15T23:00"),
        ("day", "Europe/London", "2026-07-15T23:00Z", "2026-07-15T23:00", "2026-07-16T23:00"),
        # The day the clocks go forward has 23 hours, the day they go back 25.
        ("day", "Europe/London", "2026-03-29T12:00Z", "2026-03-29T00:00", "2026-03-29T23:00"),
        ("day", "Europe/London", "2026-10-25T12:00Z", "2026-10-24T23:00", "2026-10-26T00:00"),
        # Santiago skips midnight itself: the day starts at the change, 01:00 local.
        ("day", "America/Santiago", "2024-09-08T12:00Z", "2024-09-08T04:00", "2024-09-09T03:00"),
        # ISO weeks start on Monday; a new year in the middle of a week changes nothing.
        ("week", "UTC", "2026-01-01T08:00Z", "2025-12-29T00:00", "2026-01-05T00:00"),
        ("week", "Asia/Tokyo", "2026-01-04T15:30Z", "2026-01-04T15:00", "2026-01-11T15:00"),
        # The same instant is in January in UTC and already in February in Auckland.
        ("month", "UTC", "2026-01-31T12:00Z", "2026-01-01T00:00", "2026-02-01T00:00"),
        ("month", "Pacific/Auckland", "2026-01-31T12:00Z", "2026-01-31T11:00", "2026-02-28T11:00"),
        ("month", "America/New_York", "2026-12-31T23:00Z", "2026-12-01T05:00", "2027-01-01T05:00"),
    ],
)
def test_calendar_periods_follow_the_zone(
    unit: str, zone: str, at: str, start: str, end: str
) -> None:
    assert bounds(unit, zone, at) == (start, end)


@given(
    at=st.integers(min_value=0, max_value=4_102_444_800_000),
    unit=st.sampled_from(["day", "week", "month"]),
    zone=st.sampled_from(["UTC", "Europe/London", "America/Santiago", "Asia/Kolkata"]),
)
def test_a_moment_lies_in_its_period_and_the_next_starts_at_the_end(
    at: int, unit: str, zone: str
) -> None:
    start, end = calendar_bounds(unit, zone, at)  # type: ignore[arg-type]
    assert start <= at < end
    assert calendar_bounds(unit, zone, end)[0] == end  # type: ignore[arg-type]


def test_relative_periods_start_at_first_use() -> None:
    assert period_bounds(RelativePeriod(length=36, unit="hours"), 1000) == (1000, 1000 + 36 * HOUR)
    assert period_bounds(RelativePeriod(length=2, unit="days"), 5) == (5, 5 + 48 * HOUR)
    calendar = CalendarPeriod(unit="day", time_zone="UTC")
    assert period_bounds(calendar, 25 * HOUR) == (24 * HOUR, 48 * HOUR)


def test_unknown_time_zones_are_refused() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown time zone"):
        msgspec.convert(
            {"kind": "calendar", "unit": "day", "time_zone": "Mars/Olympus"}, CalendarPeriod
        )


# ---- consumption -------------------------------------------------------------------


def plan(
    size: int = 2, unique: bool = False, now: int = 10 * HOUR, content: str = "a"
) -> ConsumePlan:
    return ConsumePlan(
        size=size,
        unique_content=unique,
        content_id=content,
        fresh_start_ms=now,
        fresh_end_ms=now + 24 * HOUR,
        now_ms=now,
    )


def test_consumption_stops_at_the_size() -> None:
    first = settle(None, plan(), already_counted=False)
    assert first.allowed and first.changed and first.rolled_over and first.usage.used == 1
    second = settle(first.usage, plan(), already_counted=False)
    assert second.allowed and second.usage.used == 2 and not second.rolled_over
    third = settle(second.usage, plan(), already_counted=False)
    assert not third.allowed and not third.changed and third.usage.used == 2


def test_a_new_period_starts_afresh() -> None:
    spent = Usage(used=2, period_start_ms=0, period_end_ms=10 * HOUR)
    later = settle(spent, plan(now=10 * HOUR), already_counted=True)
    assert later.allowed and later.rolled_over
    assert later.usage == Usage(1, 10 * HOUR, 34 * HOUR)


def test_unique_content_is_counted_once_per_period() -> None:
    spent = Usage(used=2, period_start_ms=0, period_end_ms=24 * HOUR)
    again = settle(spent, plan(unique=True), already_counted=True)
    assert again.allowed and not again.changed and again.usage == spent
    other = settle(spent, plan(unique=True), already_counted=False)
    assert not other.allowed
    views = settle(spent, plan(unique=False), already_counted=True)
    assert not views.allowed  # page views count every time


def test_credits_never_refill() -> None:
    credit = ConsumePlan(1, False, "a", 0, None, 0)
    used = settle(None, credit, already_counted=False)
    years_later = ConsumePlan(1, False, "b", 10**12, None, 10**12)
    assert not settle(used.usage, years_later, already_counted=False).allowed


def test_content_id_transforms() -> None:
    assert (
        transform_content("https://x.example/A?utm=1#top", "strip_query") == "https://x.example/A"
    )
    assert transform_content("Article-7", "lowercase") == "article-7"
    assert transform_content("Article-7", None) == "Article-7"


# ---- catalogs ----------------------------------------------------------------------


def catalog() -> Catalog:
    made = Catalog()
    for definition in (
        Entitlement(id="news", name="News"),
        Entitlement(id="video", name="Video"),
        Meter(
            id="m",
            name="m",
            entitlements=["news"],
            size=3,
            period=CalendarPeriod(unit="day"),
        ),
        Bundle(id="inner", name="inner", entitlements=["video"], meters=["m", "gone"]),
        Bundle(id="outer", name="outer", entitlements=["news"], bundles=["inner", "missing"]),
        Bundle(id="loop-a", name="a", bundles=["loop-b"]),
        Bundle(id="loop-b", name="b", bundles=["loop-a"]),
    ):
        made.add(definition)
    made.defaults = AccessDefaults(anonymous="inner")
    return made


def test_expanding_bundles_walks_nesting_and_skips_what_is_gone() -> None:
    held = catalog().expand(["outer"])
    assert held.bundles == ("outer", "inner")
    assert held.direct == {"news": "outer", "video": "inner"}
    assert held.meters == ("m",) and held.credits == ()
    looping = catalog().expand(["loop-a"])  # stored cycles cannot hang a decision
    assert looping.bundles == ("loop-a", "loop-b")


def test_cycles_are_found_before_they_are_stored() -> None:
    current = catalog()
    assert current.cycle_through(Bundle(id="inner", name="x", bundles=["outer"])) == [
        "inner",
        "outer",
        "inner",
    ]
    assert current.cycle_through(Bundle(id="self", name="x", bundles=["self"])) == ["self", "self"]
    assert current.cycle_through(Bundle(id="new", name="x", bundles=["outer", "inner"])) is None


def test_referrers_name_who_uses_a_definition() -> None:
    current = catalog()
    assert current.referrers(Entitlement, "news") == ["meter:m", "bundle:outer"]
    assert current.referrers(Meter, "m") == ["bundle:inner"]
    assert current.referrers(Bundle, "inner") == ["bundle:outer", "defaults"]
    assert current.referrers(Entitlement, "video") == ["bundle:inner"]
