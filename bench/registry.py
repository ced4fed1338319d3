"""The list of measurements, and what one measurement reports.

A measurement is a small function `fn(ctx) -> Result` registered with
`@measurement(name, description, needs=(...))`. `needs` names the measurements
whose results it compares against (its references); they run first, even under
`--only`, whatever order the modules were imported in. Otherwise measurements run
in registration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.context import Context


@dataclass
class Result:
    name: str
    description: str
    value: float
    unit: str  # "req/s", "sessions/s", "ns/call"
    p50_ms: float | None = None
    p99_ms: float | None = None
    reference: str | None = None  # what `ratio` divides by: a result's name, or "noop"
    reference_value: float | None = None
    ratio: float | None = None
    target: str | None = None  # human-readable target, e.g. ">= 0.30 x nginx_get"
    passed: bool | None = None  # None when the measurement has no target
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return ""
        return "PASS" if self.passed else "MISS"


Measure = Callable[["Context"], Result]


@dataclass(frozen=True)
class Measurement:
    name: str
    description: str
    run: Measure
    needs: tuple[str, ...] = ()


MEASUREMENTS: list[Measurement] = []


def measurement(
    name: str, description: str, needs: tuple[str, ...] = ()
) -> Callable[[Measure], Measure]:
    """Register `fn` as the measurement `name` (names are unique)."""

    def register(fn: Measure) -> Measure:
        if any(m.name == name for m in MEASUREMENTS):
            raise ValueError(f"measurement {name!r} is registered twice")
        MEASUREMENTS.append(Measurement(name, description, fn, needs))
        return fn

    return register


def select(only: Iterable[str] | None) -> list[Measurement]:
    """The measurements to run: all, or those named plus what they need.

    Registration order, except that a measurement always comes after what it needs.
    """
    by_name = {m.name: m for m in MEASUREMENTS}
    for m in MEASUREMENTS:
        unknown = [need for need in m.needs if need not in by_name]
        if unknown:
            raise KeyError(f"{m.name!r} needs {', '.join(unknown)}, which no module registers")
    wanted: set[str] = set()
    pending = list(by_name) if only is None else list(only)
    while pending:
        name = pending.pop()
        if name not in by_name:
            known = ", ".join(by_name)
            raise KeyError(f"no measurement {name!r} (known: {known})")
        if name not in wanted:
            wanted.add(name)
            pending.extend(by_name[name].needs)
    ordered: list[Measurement] = []
    placed: set[str] = set()

    def place(m: Measurement, trail: tuple[str, ...]) -> None:
        if m.name in placed:
            return
        if m.name in trail:
            raise KeyError(f"measurements need each other: {' -> '.join((*trail, m.name))}")
        for need in m.needs:
            place(by_name[need], (*trail, m.name))
        placed.add(m.name)
        ordered.append(m)

    for m in MEASUREMENTS:
        if m.name in wanted:
            place(m, ())
    return ordered
