"""Time zones: the countries an IANA zone serves, and its UTC offset at a moment.

The data is IANA's own tables (`zone.tab`, `zone1970.tab`) as the `tzdata` package ships
them. A browser may report a backward-compatible alias (`Asia/Calcutta`); an alias's
compiled data is byte-identical to its zone's, which is how it is resolved.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_ZONEINFO = resources.files("tzdata").joinpath("zoneinfo")
_MAX_ZONE_LENGTH = 64


def _tab_rows(name: str) -> list[tuple[list[str], str]]:
    """(country codes, zone) of each row of an IANA zone table."""
    rows = []
    for line in _ZONEINFO.joinpath(name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, _coordinates, zone, *_ = line.split("\t")
        rows.append((codes.split(","), zone))
    return rows


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, frozenset[str]], dict[str, str]]:
    """zone -> every country it serves; zone -> the country zone.tab gives it."""
    primary = {zone: codes[0] for codes, zone in _tab_rows("zone.tab")}
    served: dict[str, set[str]] = {zone: {code} for zone, code in primary.items()}
    for codes, zone in _tab_rows("zone1970.tab"):
        served.setdefault(zone, set()).update(codes)
    return {zone: frozenset(codes) for zone, codes in served.items()}, primary


def _zone_file(zone: str) -> Traversable | None:
    parts = zone.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    path = _ZONEINFO.joinpath(*parts)
    return path if path.is_file() else None


def _digest(path: Traversable) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def _zones_by_digest() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for zone in _tables()[0]:
        path = _zone_file(zone)
        if path is not None:
            found.setdefault(_digest(path), []).append(zone)
    return found


@lru_cache(maxsize=2048)
def _canonical(zone: str) -> tuple[str, ...]:
    """The table zones `zone` stands for: itself, or the zones an alias is a copy of."""
    if zone in _tables()[0]:
        return (zone,)
    if len(zone) > _MAX_ZONE_LENGTH:
        return ()
    path = _zone_file(zone)
    return tuple(_zones_by_digest().get(_digest(path), ())) if path is not None else ()


def zone_countries(zone: str | None) -> frozenset[str]:
    """ISO country codes a zone serves; empty when the zone is unknown."""
    if not zone:
        return frozenset()
    served = _tables()[0]
    return frozenset(code for name in _canonical(zone) for code in served[name])


def zone_country(zone: str | None) -> str | None:
    """The one country a zone belongs to (zone.tab), or None when unknown or ambiguous."""
    if not zone:
        return None
    primary = _tables()[1]
    codes = {primary[name] for name in _canonical(zone) if name in primary}
    return codes.pop() if len(codes) == 1 else None


@lru_cache(maxsize=512)
def country_zones(country: str) -> tuple[str, ...]:
    """The zones that serve a country (empty for an unknown country)."""
    return tuple(sorted(zone for zone, codes in _tables()[0].items() if country in codes))


@lru_cache(maxsize=2048)
def _zone(zone: str) -> ZoneInfo | None:
    if len(zone) > _MAX_ZONE_LENGTH or _zone_file(zone) is None:
        return None
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def utc_offset_minutes(zone: str | None, at_ms: int) -> int | None:
    """Minutes east of UTC in `zone` at the moment `at_ms`; None for an unknown zone."""
    info = _zone(zone) if zone else None
    if info is None:
        return None
    offset = datetime.fromtimestamp(at_ms / 1000, UTC).astimezone(info).utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


def format_offset(minutes: int) -> str:
    """120 -> 'UTC+02:00', -330 -> 'UTC-05:30'."""
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"
