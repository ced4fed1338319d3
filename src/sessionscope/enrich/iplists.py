"""Named IP/CIDR lists (Tor exits, datacenters, VPNs, ...) with fast membership.

`IPSet` answers "which CIDR of this set holds this IP?" in O(log n): the CIDRs are
flattened into sorted, disjoint integer ranges, each labelled with the most specific
CIDR covering it, and looked up with bisect. `IPLists` holds several named sets, loads
them from a folder of `NAME.txt` files (plus optional `NAME.meta.json`) and reloads a
file when it changes on disk.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, Generic, NamedTuple, TypeVar

import msgspec

log = logging.getLogger(__name__)

WELL_KNOWN_LISTS: Final = ("tor_exit", "datacenter", "vpn", "proxy", "private_relay", "fraud")
LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_MAPPED_V4_PREFIX: Final = 0xFFFF << 32
_MAX_REPORTED_ERRORS: Final = 5


# An IPv4 address in the one form `ipaddress` accepts for it and writes back: four decimal
# octets of ASCII digits, none above 255, without leading zeros ("81.2.69.142").
_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_IPV4: Final = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


class IPListError(ValueError):
    """A list file or entry that cannot be used; the message names the file and lines."""


def parse_ip(ip: str) -> tuple[int, int]:
    """(IP version, integer value) of an address; IPv4-mapped IPv6 counts as IPv4.

    Raises ValueError for anything that is not a plain IPv4 or IPv6 address.
    """
    try:
        if ":" not in ip:
            return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, ip), "big")
        value = int.from_bytes(socket.inet_pton(socket.AF_INET6, ip.split("%", 1)[0]), "big")
    except (OSError, TypeError) as error:
        raise ValueError(f"{ip!r} is not an IP address") from error
    if value >> 32 == 0xFFFF:
        return 4, value ^ _MAPPED_V4_PREFIX
    return 6, value


def is_dotted_ipv4(text: str) -> bool:
    """Whether `text` is an IPv4 address exactly as `ipaddress` writes it, which is also
    the only way `ipaddress` accepts one: such text needs no parsing to be normalised."""
    return _DOTTED_IPV4.fullmatch(text) is not None


def plain_ipv6_value(text: str) -> int | None:
    """The value of an IPv6 address written in hex groups alone (no scope id such as `%eth0`,
    no dotted IPv4 inside), read by the C library, which agrees with `ipaddress` on such
    text. None for anything else, to be left to `ipaddress`."""
    if ":" not in text or "%" in text or "." in text:
        return None
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
    except (OSError, ValueError):
        return None


def compressed_ipv6(text: str) -> str | None:
    """`ipaddress.ip_address(text).compressed` for an IPv6 address `plain_ipv6_value` reads,
    unless the C library writes it with dotted IPv4 inside (`::ffff:1.2.3.4`), which
    `ipaddress` does not; None otherwise."""
    value = plain_ipv6_value(text)
    if value is None:
        return None
    written = format_ip(6, value)
    return None if "." in written else written


def format_ip(version: int, value: int) -> str:
    if version == 4:
        return socket.inet_ntop(socket.AF_INET, value.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


class _Network(NamedTuple):
    first: int
    last: int
    cidr: str
    owner: str = ""  # the list a network belongs to, in a combined index


Label = TypeVar("Label")


class _Ranges(Generic[Label]):
    """Sorted disjoint integer ranges of one IP version, each with a label computed from
    the networks that cover it (innermost last)."""

    __slots__ = ("firsts", "labels", "lasts")

    def __init__(self, networks: list[_Network], label: Callable[[list[_Network]], Label]) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []
        self.labels: list[Label] = []
        self._flatten(sorted(networks, key=lambda n: (n.first, -n.last)), label)

    def _emit(self, first: int, last: int, label: Label) -> None:
        if first > last:
            return
        if self.lasts and self.lasts[-1] + 1 == first and self.labels[-1] == label:
            self.lasts[-1] = last
            return
        self.firsts.append(first)
        self.lasts.append(last)
        self.labels.append(label)

    def _flatten(self, networks: list[_Network], label: Callable[[list[_Network]], Label]) -> None:
        # CIDRs are either nested or disjoint, so one sweep keeping the stack of networks
        # that enclose the current position splits them into labelled, disjoint pieces.
        stack: list[_Network] = []
        cursor = 0
        for network in networks:
            while stack and stack[-1].last < network.first:
                self._emit(cursor, stack[-1].last, label(stack))
                cursor = max(cursor, stack.pop().last + 1)
            if stack:
                self._emit(cursor, network.first - 1, label(stack))
            cursor = network.first
            stack.append(network)
        while stack:
            self._emit(cursor, stack[-1].last, label(stack))
            cursor = max(cursor, stack.pop().last + 1)

    def find(self, value: int) -> Label | None:
        index = bisect_right(self.firsts, value) - 1
        if index >= 0 and value <= self.lasts[index]:
            return self.labels[index]
        return None


def _innermost_cidr(stack: list[_Network]) -> str:
    return stack[-1].cidr


def _network_of(entry: str) -> tuple[int, _Network]:
    """(IP version, network) of an IP or CIDR; IPv4-mapped IPv6 networks count as IPv4."""
    network = ipaddress.ip_network(entry, strict=False)
    first = int(network.network_address)
    if network.version == 6 and first >> 32 == 0xFFFF and network.prefixlen >= 96:
        network = ipaddress.IPv4Network((first ^ _MAPPED_V4_PREFIX, network.prefixlen - 96))
    as_range = _Network(int(network.network_address), int(network.broadcast_address), str(network))
    return network.version, as_range


class IPSet:
    """An immutable set of IPv4 and IPv6 networks with longest-prefix lookup."""

    __slots__ = ("_networks", "_v4", "_v6")

    def __init__(self, cidrs: Iterable[str] = ()) -> None:
        """Build from IP or CIDR strings; raises ValueError on an invalid entry."""
        unique: dict[tuple[int, int, int], _Network] = {}
        for entry in cidrs:
            version, network = _network_of(entry.strip())
            unique.setdefault((version, network.first, network.last), network)
        self._networks: dict[int, list[_Network]] = {4: [], 6: []}
        for (version, _, _), network in unique.items():
            self._networks[version].append(network)
        self._v4 = _Ranges(self._networks[4], _innermost_cidr)
        self._v6 = _Ranges(self._networks[6], _innermost_cidr)

    def __len__(self) -> int:
        """How many distinct networks the set was built from."""
        return len(self._networks[4]) + len(self._networks[6])

    def __contains__(self, ip: object) -> bool:
        return isinstance(ip, str) and self.contains(ip) is not None

    def contains(self, ip: str) -> str | None:
        """The most specific CIDR of the set that holds `ip`, else None.

        Raises ValueError if `ip` is not an IP address.
        """
        version, value = parse_ip(ip)
        return self.contains_value(version, value)

    def contains_value(self, version: int, value: int) -> str | None:
        """Like `contains`, for an address already parsed with `parse_ip`."""
        return (self._v4 if version == 4 else self._v6).find(value)

    def networks(self, version: int) -> list[_Network]:
        return self._networks[version]


# ---- named lists --------------------------------------------------------------------


class ListMatch(msgspec.Struct, frozen=True):
    name: str
    cidr: str
    updated_at: str | None = None
    source: str | None = None


class ListMatches(msgspec.Struct):
    """The lists that hold one IP address."""

    matches: list[ListMatch] = []

    def __contains__(self, name: object) -> bool:
        return bool(self.matches) and any(match.name == name for match in self.matches)

    def __bool__(self) -> bool:
        return bool(self.matches)

    @property
    def names(self) -> list[str]:
        return [match.name for match in self.matches]

    def get(self, name: str) -> ListMatch | None:
        if not self.matches:  # most addresses are on no list
            return None
        return next((match for match in self.matches if match.name == name), None)


class ListInfo(msgspec.Struct, frozen=True):
    name: str
    size: int
    source: str | None = None
    updated_at: str | None = None
    path: str | None = None


class NewList(NamedTuple):
    """A list to put in memory with `IPLists.set_many`."""

    name: str
    cidrs: IPSet | Iterable[str]
    source: str | None = None
    updated_at: str | None = None


class _NamedList(NamedTuple):
    info: ListInfo
    ipset: IPSet


class _CombinedIndex:
    """All lists flattened into one range index, so a lookup is one bisect whatever the
    number of lists: each range is labelled with the innermost CIDR of every list."""

    __slots__ = ("v4", "v6")

    def __init__(self, lists: Mapping[str, _NamedList]) -> None:
        shared: dict[tuple[str, str], ListMatch] = {}

        def label(stack: list[_Network]) -> tuple[ListMatch, ...]:
            innermost = {network.owner: network for network in stack}
            return tuple(_shared_match(shared, lists[name].info, innermost[name].cidr)
                         for name in sorted(innermost))  # fmt: skip

        def owned(version: int) -> list[_Network]:
            return [
                network._replace(owner=name)
                for name, named in lists.items()
                for network in named.ipset.networks(version)
            ]

        self.v4 = _Ranges(owned(4), label)
        self.v6 = _Ranges(owned(6), label)


def _shared_match(shared: dict[tuple[str, str], ListMatch], info: ListInfo, cidr: str) -> ListMatch:
    key = (info.name, cidr)
    if key not in shared:
        shared[key] = ListMatch(info.name, cidr, info.updated_at, info.source)
    return shared[key]


class LineError(NamedTuple):
    line: int
    text: str


def parse_list_lines(lines: Iterable[str]) -> tuple[list[str], list[LineError]]:
    """The entries of a list file (one IP or CIDR per line, `#` comments) and its bad lines."""
    entries: list[str] = []
    errors: list[LineError] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            ipaddress.ip_network(text, strict=False)
        except ValueError:
            errors.append(LineError(number, raw.strip()))
            continue
        entries.append(text)
    return entries, errors


def _describe_errors(path: Path, errors: list[LineError]) -> str:
    shown = "; ".join(f"line {e.line}: {e.text[:60]!r}" for e in errors[:_MAX_REPORTED_ERRORS])
    hidden = len(errors) - _MAX_REPORTED_ERRORS
    more = f" (and {hidden} more)" if hidden > 0 else ""
    return f"{path}: not an IP address or CIDR network: {shown}{more}"


def _iso_from_mtime(mtime: float) -> str:
    return datetime.fromtimestamp(mtime, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _read_meta(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise IPListError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise IPListError(f"{path}: expected a JSON object with source and updated_at")
    return {k: v for k, v in data.items() if k in ("source", "updated_at") and isinstance(v, str)}


def load_list_file(path: Path) -> _NamedList:
    """Read `NAME.txt` and its optional `NAME.meta.json`; raises IPListError."""
    name = path.name.removesuffix(".txt")
    if not LIST_NAME.match(name):
        raise IPListError(f"{path}: list names are lower-case letters, digits, _ and -")
    try:
        text = path.read_text(encoding="utf-8")
        mtime = path.stat().st_mtime
    except (OSError, UnicodeDecodeError) as error:
        raise IPListError(f"{path}: cannot read ({error})") from error
    entries, errors = parse_list_lines(text.splitlines())
    if errors:
        raise IPListError(_describe_errors(path, errors))
    meta = _read_meta(path.with_name(f"{name}.meta.json"))
    ipset = IPSet(entries)
    info = ListInfo(
        name=name,
        size=len(ipset),
        source=meta.get("source", f"file:{path.name}"),
        updated_at=meta.get("updated_at", _iso_from_mtime(mtime)),
        path=str(path),
    )
    return _NamedList(info, ipset)


Signature = tuple[int, int, int]


def _signature(path: Path) -> Signature | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class IPLists:
    """Named IP sets; some set in memory, some loaded from a folder and kept fresh."""

    def __init__(
        self, *, check_interval: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lists: dict[str, _NamedList] = {}
        self._index = _CombinedIndex({})
        self._directory: Path | None = None
        self._signatures: dict[str, tuple[Signature | None, Signature | None]] = {}
        self._check_interval = check_interval
        self._clock = clock
        self._next_check = 0.0
        self._lock = threading.Lock()

    # -- in-memory lists (e.g. a tenant's rows from the database) --

    def set(
        self,
        name: str,
        cidrs: IPSet | Iterable[str],
        *,
        source: str | None = None,
        updated_at: str | None = None,
    ) -> None:
        """Add or replace a list; raises ValueError for a bad name or entry."""
        self.set_many([NewList(name, cidrs, source, updated_at)])

    def set_many(self, lists: Iterable[NewList]) -> None:
        """Add or replace several lists with one index build; ValueError as `set`."""
        named: dict[str, _NamedList] = {}
        for new in lists:
            if not LIST_NAME.match(new.name):
                raise ValueError(
                    f"{new.name!r}: list names are lower-case letters, digits, _ and -"
                )
            ipset = new.cidrs if isinstance(new.cidrs, IPSet) else IPSet(new.cidrs)
            info = ListInfo(new.name, len(ipset), source=new.source, updated_at=new.updated_at)
            named[new.name] = _NamedList(info, ipset)
        with self._lock:
            self._install({**self._lists, **named})

    def remove(self, name: str) -> None:
        with self._lock:
            self._install({k: v for k, v in self._lists.items() if k != name})

    def _install(self, lists: dict[str, _NamedList]) -> None:
        index = _CombinedIndex(lists)
        self._lists, self._index = lists, index

    def names(self) -> list[str]:
        return sorted(self._lists)

    def info(self) -> list[ListInfo]:
        self._reload_if_due()
        return [self._lists[name].info for name in self.names()]

    # -- lookup --

    def match(self, ip: str) -> ListMatches:
        """Which lists hold `ip`, with the CIDR and freshness of each. ValueError if not an IP."""
        self._reload_if_due()
        version, value = parse_ip(ip)
        index = self._index
        found = (index.v4 if version == 4 else index.v6).find(value)
        return ListMatches(list(found) if found else [])

    # -- a folder of list files --

    def load_dir(self, path: str | Path) -> None:
        """Load every `NAME.txt` in `path`; raises IPListError naming a bad file and line.

        The folder is then checked for changes at most every `check_interval` seconds
        during `match`; a changed file that turns out broken keeps its previous list.
        """
        directory = Path(path)
        if not directory.is_dir():
            raise IPListError(f"{directory}: not a folder (SESSIONSCOPE_LISTS_DIR)")
        with self._lock:
            self._directory = directory
            self._refresh(strict=True)

    def reload(self) -> bool:
        """Re-read changed, new and deleted files now; True if any list changed."""
        with self._lock:
            return self._refresh(strict=False)

    def _reload_if_due(self) -> None:
        if self._directory is None or self._clock() < self._next_check:
            return
        if self._lock.acquire(blocking=False):  # one thread reloads, the others go on
            try:
                self._refresh(strict=False)
            finally:
                self._lock.release()

    def _list_files(self, directory: Path) -> dict[str, Path]:
        try:
            return {p.name.removesuffix(".txt"): p for p in directory.glob("*.txt")}
        except OSError:
            return {}

    def _refresh(self, *, strict: bool) -> bool:
        assert self._directory is not None
        self._next_check = self._clock() + self._check_interval
        files = self._list_files(self._directory)
        lists = dict(self._lists)
        signatures = dict(self._signatures)
        changed = False
        for name in set(signatures) - set(files):
            lists.pop(name, None)
            del signatures[name]
            changed = True
        for name, path in sorted(files.items()):
            signature = (_signature(path), _signature(path.with_name(f"{name}.meta.json")))
            if signatures.get(name) == signature:
                continue
            try:
                lists[name] = load_list_file(path)
            except IPListError:
                if strict:
                    raise
                log.warning("keeping the previous %s list", name, exc_info=True)
                continue
            signatures[name] = signature
            changed = True
        if changed:
            self._install(lists)
        self._signatures = signatures
        return changed


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
