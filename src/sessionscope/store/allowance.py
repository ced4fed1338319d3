"""Meter and credit usage (issue 7), and the one step that consumes it atomically.

A visitor's usage of one meter or credit is one row: how much of the current period is
used and when the period ends (never, for a credit). `settle` is the whole rule of a
consumption; each backend runs it inside one serialised write (SQLite's writer thread,
a PostgreSQL transaction holding the row's lock), so concurrent requests cannot both
take the last unit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UsageKey:
    tenant: str
    site: str
    source: str  # `meter:<id>` or `credit:<id>`
    subject: str  # the visitor: `user:<id>`, `device:<id>` or `session:<id>`


@dataclass(frozen=True, slots=True)
class Usage:
    used: int
    period_start_ms: int
    period_end_ms: int | None  # None: the allowance never refills (a credit)


@dataclass(frozen=True, slots=True)
class ConsumePlan:
    """What one use asks for: the allowance's size, how it counts, and the period a
    fresh start would get at `now_ms`."""

    size: int
    unique_content: bool
    content_id: str
    fresh_start_ms: int
    fresh_end_ms: int | None
    now_ms: int


@dataclass(frozen=True, slots=True)
class Consumption:
    allowed: bool
    changed: bool  # the usage row must be written
    rolled_over: bool  # a new period began: the old period's content ids go
    usage: Usage


@dataclass(frozen=True, slots=True)
class UsageRow:
    """A usage row with the content ids counted in its current period, oldest first."""

    source: str
    usage: Usage
    content_ids: list[str]


def current_usage(stored: Usage | None, plan: ConsumePlan) -> tuple[Usage, bool]:
    """The usage of the period `plan.now_ms` falls in, and whether that period is new."""
    if stored is None:
        return Usage(0, plan.fresh_start_ms, plan.fresh_end_ms), True
    if stored.period_end_ms is not None and stored.period_end_ms <= plan.now_ms:
        return Usage(0, plan.fresh_start_ms, plan.fresh_end_ms), True
    return stored, False


def settle(stored: Usage | None, plan: ConsumePlan, already_counted: bool) -> Consumption:
    """Consume one unit if any is left; content counted once per period is free again."""
    usage, fresh = current_usage(stored, plan)
    if plan.unique_content and already_counted and not fresh:
        return Consumption(allowed=True, changed=False, rolled_over=False, usage=usage)
    if usage.used >= plan.size:
        return Consumption(allowed=False, changed=fresh, rolled_over=fresh, usage=usage)
    spent = Usage(usage.used + 1, usage.period_start_ms, usage.period_end_ms)
    return Consumption(allowed=True, changed=True, rolled_over=fresh, usage=spent)
