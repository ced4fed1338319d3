"""Known devices (device identity): the stored record and the SQL both backends share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Placeholder = Callable[[int], str]

DEVICE_COLUMNS = (
    "tenant",
    "site",
    "device_id",
    "token_digest",
    "bucket",
    "components",
    "first_seen_ms",
    "last_seen_ms",
)
_SELECT = f"SELECT {', '.join(DEVICE_COLUMNS)} FROM devices"


@dataclass(frozen=True, slots=True)
class KnownDevice:
    """A device a site has seen: its id, the digest of its script token, its components.

    `components` is the JSON text of the stable fingerprint components last reported;
    `bucket` is the digest of the most stable of them, which candidates must share.
    """

    tenant: str
    site: str
    device_id: str
    token_digest: str | None
    bucket: str
    components: str
    first_seen_ms: int
    last_seen_ms: int


def device_values(device: KnownDevice) -> list[Any]:
    return [getattr(device, column) for column in DEVICE_COLUMNS]


def device_from_row(row: Any) -> KnownDevice:
    """A record from a row of `DEVICE_COLUMNS` (sqlite tuple or asyncpg Record)."""
    return KnownDevice(*(row[i] for i in range(len(DEVICE_COLUMNS))))


def by_token_sql(mark: Placeholder) -> str:
    return (
        f"{_SELECT} WHERE tenant = {mark(1)} AND site = {mark(2)} AND token_digest = {mark(3)}"
        " ORDER BY last_seen_ms DESC LIMIT 1"
    )


def candidates_sql(mark: Placeholder) -> str:
    """The most recently seen devices of one bucket; params: tenant, site, bucket, limit."""
    return (
        f"{_SELECT} WHERE tenant = {mark(1)} AND site = {mark(2)} AND bucket = {mark(3)}"
        f" ORDER BY last_seen_ms DESC LIMIT {mark(4)}"
    )


def save_sql(mark: Placeholder) -> str:
    """Insert a device, or update everything but its first sighting when it exists."""
    values = ", ".join(mark(i + 1) for i in range(len(DEVICE_COLUMNS)))
    changed = ("token_digest", "bucket", "components", "last_seen_ms")
    assignments = ", ".join(f"{name} = excluded.{name}" for name in changed)
    return (
        f"INSERT INTO devices ({', '.join(DEVICE_COLUMNS)}) VALUES ({values})"
        f" ON CONFLICT (tenant, site, device_id) DO UPDATE SET {assignments}"
    )
