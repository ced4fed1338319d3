"""Impossible travel: could the visitor have got from the previous session's place to this
one's in the time between them?

The distance is the great-circle distance between the two IP locations, less both
accuracy radii (each location may be anywhere within its radius); divided by the time
between the sessions' creation it gives a speed, compared with the site's limit
(default 900 km/h, an airliner). Sessions through anonymizing networks are not judged:
their IP location is the network's, not the visitor's.
"""

from __future__ import annotations

from dataclasses import dataclass

from haversine import Unit, haversine  # type: ignore[import-untyped]

from sessionscope.judge.case import Case
from sessionscope.judge.findings import risk_signal
from sessionscope.model import Location, RiskSignal

# Closer than this, IP geolocation cannot tell two places apart.
MIN_DISTANCE_KM = 100.0
BASE_SCORE = 0.7
# The score reaches 1 at this many times the allowed speed.
FULL_SCORE_RATIO = 5.0
_MIN_HOURS = 1 / 3600


@dataclass(frozen=True, slots=True)
class Place:
    latitude: float
    longitude: float
    radius_km: float
    label: str


def place_of(location: Location) -> Place | None:
    if location.latitude is None or location.longitude is None:
        return None
    label = ", ".join(part for part in (location.city, location.country_code) if part)
    return Place(
        latitude=location.latitude,
        longitude=location.longitude,
        radius_km=location.accuracy_radius_km or 0.0,
        label=label or f"{location.latitude:.2f}, {location.longitude:.2f}",
    )


def effective_distance_km(a: Place, b: Place) -> tuple[float, float]:
    """(great-circle distance, distance beyond both accuracy radii) in km."""
    distance: float = haversine(
        (a.latitude, a.longitude), (b.latitude, b.longitude), unit=Unit.KILOMETERS
    )
    return distance, max(0.0, distance - a.radius_km - b.radius_km)


def describe_duration(ms: int) -> str:
    seconds = max(ms, 0) // 1000
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def speed_score(speed_kmh: float, limit_kmh: float) -> float:
    ratio = speed_kmh / limit_kmh
    return min(1.0, BASE_SCORE + (1.0 - BASE_SCORE) * (ratio - 1.0) / (FULL_SCORE_RATIO - 1.0))


def impossible_travel(case: Case) -> RiskSignal:
    previous = case.history.previous
    if previous is None:
        return risk_signal([])
    whose = f"the {case.history.previous_by or 'same'}'s previous session {previous.id}"
    if case.anonymizer is not None:
        return _excluded(f"this session's IP {case.ip} is {case.anonymizer}")
    if previous.anonymizer is not None:
        return _excluded(f"{whose} came through {previous.anonymizer}")
    here, there = place_of(case.session.location), place_of(previous.location)
    if here is None or there is None:
        return risk_signal([])
    distance, beyond = effective_distance_km(there, here)
    if beyond < MIN_DISTANCE_KM:
        return risk_signal([])
    elapsed = case.created_ms - previous.created_ms
    speed = beyond / max(elapsed / 3_600_000, _MIN_HOURS)
    limit = case.policy.travel_speed_kmh
    story = (
        f"{whose} was in {there.label} {describe_duration(elapsed)} earlier; {here.label} is "
        f"{distance:,.0f} km away ({beyond:,.0f} km beyond the accuracy radii): "
        f"{speed:,.0f} km/h"
    )
    if speed <= limit:
        return RiskSignal(flag=False, score=0.0, reasons=[f"{story}, within {limit:,.0f} km/h"])
    return RiskSignal(
        flag=True,
        score=round(speed_score(speed, limit), 3),
        reasons=[f"{story}, above the site's limit of {limit:,.0f} km/h"],
    )


def _excluded(why: str) -> RiskSignal:
    return RiskSignal(
        flag=False,
        score=0.0,
        reasons=[f"not judged: {why}; anonymizing networks are excluded from impossible travel"],
    )
