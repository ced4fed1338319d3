"""One typed settings object, read from SESSIONSCOPE_* variables and an optional TOML file.

Precedence: environment variable, then the TOML file named by SESSIONSCOPE_CONFIG,
then the default. A bad value raises ConfigError naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

PREFIX = "SESSIONSCOPE_"
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A setting has a value the service cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///data/sessionscope.db"
    redis_url: str | None = None
    redis_prefix: str = "sessionscope:"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    master_key: str | None = None
    trusted_proxies: tuple[IPNetwork, ...] = ()
    max_body_bytes: int = 65536
    durability: str = "normal"
    # SQLite: document bytes of sessions read by id that each process keeps (0: none)
    read_cache_mb: int = 512
    # SQLite: size of the file of HMAC nonces every process maps (0: nonces logged only)
    nonce_table_mb: int = 96
    session_lifetime_days: int = 365
    key_cache_seconds: float = 2.0
    geoip_city: str | None = None
    geoip_asn: str | None = None
    geoip_isp: str | None = None
    geoip_connection_type: str | None = None
    geoip_anonymous: str | None = None
    lists_dir: str | None = None
    # IP lists and geo data (issue 3): change checks of the files, per-tenant list refresh
    data_check_seconds: float = 5.0
    tenant_lists_ttl_seconds: float = 10.0
    # compatible read APIs (issue 6): requests per minute and key
    compat_rate_limit: int = 1200
    # browser script and /v1/collect (issue 4)
    collect_rate_per_ip: int = 600
    collect_rate_per_key: int = 60_000
    demo_site: str | None = None
    # session lifecycle (issue 7): shifted clock for tests and demos, purge period
    clock_offset_seconds: int = 0
    purge_interval_seconds: int = 300

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _optional_text(value: str) -> str | None:
    return value.strip() or None


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not value.strip().lstrip("-").isdigit():
            raise ValueError("must be an integer")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"must be between {low} and {high}")
        return number

    return parse


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("must be a number") from None
    if number < 0:
        raise ValueError("must not be negative")
    return number


def _database_url(value: str) -> str:
    if value.startswith("sqlite:///") and len(value) > len("sqlite:///"):
        return value
    if value.startswith(("postgresql://", "postgres://")):
        return value
    raise ValueError("expected sqlite:///path or postgresql://user@host/db")


def _redis_url(value: str) -> str | None:
    if not value.strip():
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected redis://host:port/db")
    return value


def _networks(value: str) -> tuple[IPNetwork, ...]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts)


def _sub_tenant_id(value: str) -> str | None:
    """`tenant|site`, the sub-tenant id of a site (empty: none)."""
    if not value.strip():
        return None
    tenant, bar, site = value.strip().partition("|")
    if not (bar and tenant and site and "|" not in site):
        raise ValueError("expected tenant|site, e.g. demo|web")
    return f"{tenant}|{site}"


def _durability(value: str) -> str:
    if value not in ("normal", "strict"):
        raise ValueError("expected normal or strict")
    return value


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": _database_url,
    "redis_url": _redis_url,
    "redis_prefix": _text,
    "host": _text,
    "port": _bounded_int(1, 65535),
    "workers": _bounded_int(1, 64),
    "master_key": _optional_text,
    "trusted_proxies": _networks,
    "max_body_bytes": _bounded_int(1024, 64 * 1024 * 1024),
    "durability": _durability,
    "read_cache_mb": _bounded_int(0, 1_048_576),
    "nonce_table_mb": _bounded_int(0, 65_536),
    "session_lifetime_days": _bounded_int(1, 3650),
    "key_cache_seconds": _positive_float,
    "geoip_city": _optional_text,
    "geoip_asn": _optional_text,
    "geoip_isp": _optional_text,
    "geoip_connection_type": _optional_text,
    "geoip_anonymous": _optional_text,
    "lists_dir": _optional_text,
    "data_check_seconds": _positive_float,
    "tenant_lists_ttl_seconds": _positive_float,
    "compat_rate_limit": _bounded_int(1, 10_000_000),
    "collect_rate_per_ip": _bounded_int(1, 10_000_000),
    "collect_rate_per_key": _bounded_int(1, 10_000_000),
    "demo_site": _sub_tenant_id,
    "clock_offset_seconds": _bounded_int(-3_155_760_000, 3_155_760_000),
    "purge_interval_seconds": _bounded_int(0, 86_400),
}


def parse_setting(name: str, raw: str) -> Any:
    """Parse one setting by field name; ConfigError names the variable."""
    try:
        return _PARSERS[name](raw)
    except ValueError as error:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r}: {error}") from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = _file_values(env.get(PREFIX + "CONFIG"))
    for spec in fields(Settings):
        raw = env.get(PREFIX + spec.name.upper())
        if raw is not None and spec.name in _PARSERS:
            values[spec.name] = raw
    parsed = {name: parse_setting(name, str(raw)) for name, raw in values.items()}
    return Settings(**parsed)


def _file_values(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{PREFIX}CONFIG={path!r}: {error}") from None
    unknown = sorted(set(data) - set(_PARSERS))
    if unknown:
        raise ConfigError(f"{PREFIX}CONFIG={path!r}: unknown settings {', '.join(unknown)}")
    return {
        name: value if isinstance(value, str) else _toml_text(value) for name, value in data.items()
    }


def _toml_text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
