"""IP address -> location, ASN, ISP, connection type and anonymity flags.

Reads MaxMind-format databases with the `maxminddb` C extension: MaxMind GeoIP2 /
GeoLite2 (City or Country, ASN, ISP, Connection-Type, Anonymous-IP, Enterprise), DB-IP
lite (MaxMind field names) and ip-location-db (flat keys such as `country_code`,
`state1`, `autonomous_system_number`); the layout is recognised from each record's keys.
With no database configured at all, country and AS name come from the data that the
`geoip2fast` package ships, loaded once on first use.

Each database is opened once (memory-mapped) and re-opened when its file changes; the
check costs one stat per file and runs at most every `check_interval` seconds. Replace
files atomically (write elsewhere, then rename), as geoipupdate does.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import maxminddb
import msgspec

from sessionscope import model
from sessionscope.enrich.iplists import IPSet, format_ip, parse_ip

log = logging.getLogger(__name__)

# GeoConfig field -> the environment variable users set it with (for error messages).
SETTING_NAMES: Final[Mapping[str, str]] = {
    "city": "SESSIONSCOPE_GEOIP_CITY",
    "asn": "SESSIONSCOPE_GEOIP_ASN",
    "isp": "SESSIONSCOPE_GEOIP_ISP",
    "connection_type": "SESSIONSCOPE_GEOIP_CONNECTION_TYPE",
    "anonymous": "SESSIONSCOPE_GEOIP_ANONYMOUS",
}
# MaxMind database types that belong in another setting: configuring one of these in the
# wrong place is an error. Unknown types (DB-IP, ip-location-db, ...) are accepted.
_MAXMIND_TYPES: Final[Mapping[str, str]] = {
    "GeoIP2-City": "city", "GeoLite2-City": "city", "GeoIP2-Country": "city",
    "GeoLite2-Country": "city", "GeoIP2-Enterprise": "city", "GeoIP2-Precision-City": "city",
    "GeoLite2-ASN": "asn", "GeoIP2-ISP": "isp", "GeoIP2-Connection-Type": "connection_type",
    "GeoIP2-Anonymous-IP": "anonymous",
}  # fmt: skip

# Addresses that are not on the public internet: no database knows them, so they get an
# empty result without a lookup (RFC 6890 special-purpose registries, IPv4 and IPv6).
SPECIAL_PURPOSE_NETWORKS: Final = IPSet(
    [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
        "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
        "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "fc00::/7",
        "fe80::/10", "ff00::/8",
    ]
)  # fmt: skip

DEFAULT_CHECK_INTERVAL: Final = 5.0
DEFAULT_CACHE_SIZE: Final = 50_000
FALLBACK_DATA_FILE: Final = "geoip2fast-asn-ipv6.dat.gz"


class GeoDatabaseError(RuntimeError):
    """A configured database is missing, unreadable or of the wrong kind."""


class GeoConfig(msgspec.Struct, kw_only=True):
    """Paths of the databases to use; each may list several files separated by os.pathsep
    (ip-location-db ships IPv4 and IPv6 as separate files)."""

    city: str | None = None
    asn: str | None = None
    isp: str | None = None
    connection_type: str | None = None
    anonymous: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> GeoConfig:
        """From an object with geoip_city, geoip_asn, ... attributes (config.Settings)."""
        return cls(**{name: getattr(settings, f"geoip_{name}", None) for name in SETTING_NAMES})

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in SETTING_NAMES)


class AnonymousFlags(msgspec.Struct, kw_only=True):
    is_anonymous: bool = False
    is_anonymous_vpn: bool = False
    is_hosting_provider: bool = False
    is_public_proxy: bool = False
    is_residential_proxy: bool = False
    is_tor_exit_node: bool = False


_ANONYMOUS_KEYS: Final = tuple(AnonymousFlags.__struct_fields__)


class GeoResult(msgspec.Struct, kw_only=True):
    location: model.Location = msgspec.field(default_factory=model.Location)
    asn: int | None = None
    as_organization: str | None = None
    isp: str | None = None
    organization: str | None = None
    connection_type: str | None = None
    user_type: str | None = None
    mobile_country_code: str | None = None
    mobile_network_code: str | None = None
    anonymous: AnonymousFlags = msgspec.field(default_factory=AnonymousFlags)


class DatabaseInfo(msgspec.Struct, frozen=True):
    setting: str
    path: str
    database_type: str
    build_epoch: int
    ip_version: int


# ---- reading records ----------------------------------------------------------------


def _english(names_holder: Any) -> str | None:
    if not isinstance(names_holder, Mapping):
        return None
    names = names_holder.get("names")
    if not isinstance(names, Mapping):
        return None
    name = names.get("en")
    return name if isinstance(name, str) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def location_from_record(record: Mapping[str, Any]) -> model.Location:
    """A City/Country record in MaxMind/DB-IP layout or ip-location-db's flat layout."""
    if "country_code" in record or isinstance(record.get("city"), str):
        return _location_from_flat(record)
    location = _mapping(record.get("location"))
    subdivisions = record.get("subdivisions")
    first_subdivision = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    return model.Location(
        continent=_text(_mapping(record.get("continent")).get("code")),
        country_code=_text(_mapping(record.get("country")).get("iso_code")),
        state=_english(first_subdivision),
        city=_english(record.get("city")),
        zip_code=_text(_mapping(record.get("postal")).get("code")),
        timezone=_text(location.get("time_zone")),
        latitude=_number(location.get("latitude")),
        longitude=_number(location.get("longitude")),
        accuracy_radius_km=_number(location.get("accuracy_radius")),
    )


def _location_from_flat(record: Mapping[str, Any]) -> model.Location:
    country = _text(record.get("country_code"))
    return model.Location(
        continent=_text(record.get("continent_code")),
        country_code=country.upper() if country else None,
        state=_text(record.get("state1")),
        city=_text(record.get("city")),
        zip_code=_text(record.get("postcode")),
        timezone=_text(record.get("timezone")),
        latitude=_number(record.get("latitude")),
        longitude=_number(record.get("longitude")),
    )


def _apply_network_fields(result: GeoResult, record: Mapping[str, Any]) -> None:
    """ASN, ISP and connection fields, from a dedicated db or an Enterprise `traits` map;
    a value already set (by a more specific db) is kept."""
    result.asn = result.asn or _integer(record.get("autonomous_system_number"))
    result.as_organization = result.as_organization or _text(
        record.get("autonomous_system_organization")
    )
    result.isp = result.isp or _text(record.get("isp"))
    result.organization = result.organization or _text(record.get("organization"))
    result.connection_type = result.connection_type or _text(record.get("connection_type"))
    result.user_type = result.user_type or _text(record.get("user_type"))
    result.mobile_country_code = result.mobile_country_code or _text(
        record.get("mobile_country_code")
    )
    result.mobile_network_code = result.mobile_network_code or _text(
        record.get("mobile_network_code")
    )


def _apply_anonymous_fields(result: GeoResult, record: Mapping[str, Any]) -> None:
    flags = result.anonymous
    for key in _ANONYMOUS_KEYS:
        if record.get(key) is True:
            setattr(flags, key, True)


# ---- databases ----------------------------------------------------------------------


def _open_reader(setting: str, path: Path) -> Any:
    if not path.is_file():
        raise GeoDatabaseError(f"{SETTING_NAMES[setting]}: no database file at {path}")
    try:
        return maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
    except (OSError, ValueError, RuntimeError) as error:
        raise GeoDatabaseError(
            f"{SETTING_NAMES[setting]}: {path} is not a readable MaxMind-format database ({error})"
        ) from error


def _file_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class _Database:
    """One database file, re-opened when the file changes."""

    def __init__(self, setting: str, path: Path) -> None:
        self.setting = setting
        self.path = path
        self.signature = _file_signature(path)
        self.reader = self._open()

    def _open(self) -> Any:
        reader = _open_reader(self.setting, self.path)
        database_type = str(reader.metadata().database_type)
        expected = _MAXMIND_TYPES.get(database_type, self.setting)
        if expected != self.setting:
            reader.close()
            raise GeoDatabaseError(
                f"{SETTING_NAMES[self.setting]}: {self.path} is a {database_type} database, "
                f"which belongs in {SETTING_NAMES[expected]}"
            )
        self.ip_version = int(reader.metadata().ip_version)
        return reader

    def reload_if_changed(self) -> bool:
        signature = _file_signature(self.path)
        if signature == self.signature or signature is None:
            return False  # unchanged, or gone mid-replace: keep serving the open file
        try:
            self.reader = self._open()  # the old reader closes once no lookup holds it
        except GeoDatabaseError:
            log.warning("keeping the previous %s database", self.setting, exc_info=True)
            return False
        finally:
            self.signature = signature
        return True

    def get(self, ip: str, version: int) -> Mapping[str, Any] | None:
        if version == 6 and self.ip_version == 4:
            return None
        record = self.reader.get(ip)
        return record if isinstance(record, Mapping) else None

    def info(self) -> DatabaseInfo:
        metadata = self.reader.metadata()
        return DatabaseInfo(
            setting=SETTING_NAMES[self.setting],
            path=str(self.path),
            database_type=str(metadata.database_type),
            build_epoch=int(metadata.build_epoch),
            ip_version=int(metadata.ip_version),
        )


def _split_paths(value: str) -> list[Path]:
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


# ---- the bundled fallback -----------------------------------------------------------

_fallback_lock = threading.Lock()
_fallback_reader: Any = None


def _load_fallback(data_file: str) -> Any:
    # geoip2fast keeps its data in module globals: one dataset per process, loaded once.
    global _fallback_reader  # noqa: PLW0603
    with _fallback_lock:
        if _fallback_reader is None:
            from geoip2fast import GeoIP2Fast  # noqa: PLC0415 - costly import, only if used

            _fallback_reader = GeoIP2Fast(verbose=False, geoip2fast_data_file=data_file)
        return _fallback_reader


def _fallback_result(reader: Any, ip: str) -> GeoResult:
    found = reader.lookup(ip)
    country = getattr(found, "country_code", "")
    as_name = getattr(found, "asn_name", "")
    if getattr(found, "is_private", False):
        return GeoResult()
    return GeoResult(
        location=model.Location(
            country_code=country if isinstance(country, str) and len(country) == 2 else None
        ),
        as_organization=as_name if isinstance(as_name, str) and as_name else None,
    )


# ---- the service --------------------------------------------------------------------


class GeoIP:
    """Looks IP addresses up in the configured databases (or the bundled fallback)."""

    def __init__(
        self,
        config: GeoConfig,
        *,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        cache_size: int = DEFAULT_CACHE_SIZE,
        fallback_data_file: str | None = FALLBACK_DATA_FILE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Open every configured database; raises GeoDatabaseError naming the setting.

        `fallback_data_file=None` disables the geoip2fast fallback (lookups then return
        empty results when no database is configured).
        """
        self._databases: dict[str, list[_Database]] = {}
        for setting in SETTING_NAMES:
            value = getattr(config, setting)
            if value:
                self._databases[setting] = [_Database(setting, p) for p in _split_paths(value)]
        self._fallback_file = fallback_data_file if config.is_empty() else None
        self._check_interval = check_interval
        self._clock = clock
        self._next_check = clock() + check_interval
        self._reload_lock = threading.Lock()
        self._cached = lru_cache(maxsize=cache_size)(self._lookup_uncached)

    def databases(self) -> list[DatabaseInfo]:
        return [db.info() for dbs in self._databases.values() for db in dbs]

    @property
    def uses_fallback(self) -> bool:
        return self._fallback_file is not None

    def warm(self) -> None:
        """Load the bundled fallback data now rather than on the first lookup."""
        if self._fallback_file is not None:
            _load_fallback(self._fallback_file)

    def lookup(self, ip: str) -> GeoResult:
        """Everything the databases know about `ip`; a fresh object the caller may change.

        Private and reserved addresses give an empty result. Raises ValueError if `ip`
        is not an IP address.
        """
        version, value = parse_ip(ip)
        self._reload_if_due()
        if SPECIAL_PURPOSE_NETWORKS.contains_value(version, value) is not None:
            return GeoResult()
        key = ip if version == 4 and ":" not in ip else format_ip(version, value)
        return _copy_result(self._cached(key, version))

    def reload(self) -> bool:
        """Re-open every database whose file changed; True if any did."""
        with self._reload_lock:
            return self._reload_locked()

    def _reload_locked(self) -> bool:
        self._next_check = self._clock() + self._check_interval
        changed = [db.reload_if_changed() for dbs in self._databases.values() for db in dbs]
        if any(changed):
            self._cached.cache_clear()
        return any(changed)

    def _reload_if_due(self) -> None:
        if self._clock() < self._next_check:
            return
        if self._reload_lock.acquire(blocking=False):  # one thread checks, the others go on
            try:
                self._reload_locked()
            finally:
                self._reload_lock.release()

    def _records(self, setting: str, ip: str, version: int) -> Mapping[str, Any] | None:
        for database in self._databases.get(setting, ()):
            record = database.get(ip, version)
            if record:
                return record
        return None

    def _lookup_uncached(self, ip: str, version: int) -> GeoResult:
        if self._fallback_file is not None:
            return _fallback_result(_load_fallback(self._fallback_file), ip)
        result = GeoResult()
        for setting in ("anonymous", "connection_type", "isp", "asn"):
            record = self._records(setting, ip, version)
            if record:
                _apply_network_fields(result, record)
                _apply_anonymous_fields(result, record)
        city = self._records("city", ip, version)
        if city:
            result.location = location_from_record(city)
            traits = _mapping(city.get("traits"))
            _apply_network_fields(result, traits)
            _apply_anonymous_fields(result, traits)
        return result


def _copy_result(result: GeoResult) -> GeoResult:
    return msgspec.structs.replace(
        result,
        location=msgspec.structs.replace(result.location),
        anonymous=msgspec.structs.replace(result.anonymous),
    )
