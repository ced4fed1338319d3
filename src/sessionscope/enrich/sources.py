"""Downloads of public IP lists into a lists folder (`sessionscope lists update`).

Each `Source` is a URL, a parser for its format and the list it feeds. Several sources
may feed one list (every cloud provider feeds `datacenter`); the list file keeps one
commented section per source, so when one source fails its previous section is kept
while the others are refreshed. A list file is replaced atomically (temp file in the
same folder, fsync, os.replace), followed by its `NAME.meta.json`.

This is the only module of the enrichment layer that touches the network, and only when
`update_lists` is called.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Protocol

import msgspec

from sessionscope.enrich.iplists import now_iso

USER_AGENT: Final = "sessionscope-lists-update/0.1"
DEFAULT_TIMEOUT: Final = 30.0
MAX_DOWNLOAD_BYTES: Final = 64 * 1024 * 1024
_CHUNK: Final = 64 * 1024
SECTION_MARKER: Final = "# source: "


class SourceError(Exception):
    """A source that could not be downloaded, parsed or validated."""


class Progress(Protocol):
    """Told about each source: done=0 at the start, after each chunk, and at the end."""

    def __call__(self, source: str, done: int, total: int | None) -> None: ...


# ---- parsers: bytes of one format -> IP/CIDR strings ---------------------------------


def _text(body: bytes) -> str:
    return body.decode("utf-8-sig")


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as error:
        raise SourceError(f"not JSON: {error}") from error


def parse_plain_lines(body: bytes) -> list[str]:
    """One IP or CIDR per line, `#` comments (Tor bulk exit list, Cloudflare ips-v4/v6)."""
    lines = (line.split("#", 1)[0].strip() for line in _text(body).splitlines())
    return [line for line in lines if line]


def parse_csv_first_column(body: bytes) -> list[str]:
    """CSV whose first column is a CIDR (DigitalOcean geo feed, Apple Private Relay)."""
    rows = csv.reader(io.StringIO(_text(body)))
    return [row[0].strip() for row in rows if row and row[0].strip() and row[0][0] != "#"]


def _strings(items: Iterable[Any], key: str) -> list[str]:
    return [
        item[key] for item in items if isinstance(item, dict) and isinstance(item.get(key), str)
    ]


def _list_at(data: Any, key: str) -> list[Any]:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise SourceError(f"expected a JSON object with a {key!r} list")
    return value


def parse_aws(body: bytes) -> list[str]:
    """AWS ip-ranges.json: prefixes[].ip_prefix and ipv6_prefixes[].ipv6_prefix."""
    data = _json(body)
    v4 = _strings(_list_at(data, "prefixes"), "ip_prefix")
    v6 = _strings(data.get("ipv6_prefixes") or [], "ipv6_prefix")
    return v4 + v6


def parse_google_cloud(body: bytes) -> list[str]:
    """Google Cloud cloud.json: prefixes[].ipv4Prefix / ipv6Prefix."""
    prefixes = _list_at(_json(body), "prefixes")
    return _strings(prefixes, "ipv4Prefix") + _strings(prefixes, "ipv6Prefix")


def parse_azure(body: bytes) -> list[str]:
    """Azure service tags: values[].properties.addressPrefixes."""
    entries: list[str] = []
    for value in _list_at(_json(body), "values"):
        properties = value.get("properties") if isinstance(value, dict) else None
        prefixes = properties.get("addressPrefixes") if isinstance(properties, dict) else None
        if isinstance(prefixes, list):
            entries.extend(p for p in prefixes if isinstance(p, str))
    return entries


def parse_oracle(body: bytes) -> list[str]:
    """Oracle Cloud public_ip_ranges.json: regions[].cidrs[].cidr."""
    entries: list[str] = []
    for region in _list_at(_json(body), "regions"):
        cidrs = region.get("cidrs") if isinstance(region, dict) else None
        entries.extend(_strings(cidrs if isinstance(cidrs, list) else [], "cidr"))
    return entries


_AZURE_FILE_LINK = re.compile(rb"""href=["']([^"']*ServiceTags_Public_[0-9]+\.json)["']""")


def resolve_azure_url(page: bytes, page_url: str) -> str:
    """The weekly JSON link on Microsoft's download confirmation page."""
    match = _AZURE_FILE_LINK.search(page)
    if not match:
        raise SourceError("no ServiceTags_Public_*.json link on the download page")
    link = match.group(1).decode("ascii", "replace")
    return str(urllib.parse.urljoin(page_url, link))


# ---- sources ------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A public list: where it is, how to read it, which list it feeds."""

    list_name: str
    url: str
    parse: Callable[[bytes], list[str]]
    description: str
    min_entries: int = 1
    # For a URL that names an HTML page rather than the data: finds the data URL in it.
    resolve: Callable[[bytes, str], str] | None = None


AZURE_DOWNLOAD_PAGE: Final = "https://www.microsoft.com/en-us/download/confirmation.aspx?id=56519"

DEFAULT_SOURCES: Final[Mapping[str, Source]] = {
    "tor": Source(
        "tor_exit", "https://check.torproject.org/torbulkexitlist", parse_plain_lines,
        "Tor Project bulk exit list", min_entries=100,
    ),
    "aws": Source(
        "datacenter", "https://ip-ranges.amazonaws.com/ip-ranges.json", parse_aws,
        "Amazon Web Services IP ranges", min_entries=100,
    ),
    "google_cloud": Source(
        "datacenter", "https://www.gstatic.com/ipranges/cloud.json", parse_google_cloud,
        "Google Cloud IP ranges", min_entries=50,
    ),
    "azure": Source(
        "datacenter", AZURE_DOWNLOAD_PAGE, parse_azure,
        "Microsoft Azure service tags (public cloud)", min_entries=1000,
        resolve=resolve_azure_url,
    ),
    "oracle": Source(
        "datacenter", "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json",
        parse_oracle, "Oracle Cloud Infrastructure IP ranges", min_entries=50,
    ),
    "digitalocean": Source(
        "datacenter", "https://digitalocean.com/geo/google.csv", parse_csv_first_column,
        "DigitalOcean IP ranges (geo feed)", min_entries=100,
    ),
    "cloudflare_v4": Source(
        "datacenter", "https://www.cloudflare.com/ips-v4", parse_plain_lines,
        "Cloudflare IPv4 ranges", min_entries=5,
    ),
    "cloudflare_v6": Source(
        "datacenter", "https://www.cloudflare.com/ips-v6", parse_plain_lines,
        "Cloudflare IPv6 ranges", min_entries=3,
    ),
    "icloud_private_relay": Source(
        "private_relay", "https://mask-api.icloud.com/egress-ip-ranges.csv",
        parse_csv_first_column, "Apple iCloud Private Relay egress ranges", min_entries=1000,
    ),
}  # fmt: skip


def with_urls(sources: Mapping[str, Source], urls: Mapping[str, str]) -> dict[str, Source]:
    """The sources with some URLs replaced; a URL ending in .json or .csv or .txt is taken
    as the data itself (no page to resolve). Unknown source names raise KeyError."""
    updated = dict(sources)
    for name, url in urls.items():
        source = sources[name]
        direct = url.split("?", 1)[0].endswith((".json", ".csv", ".txt"))
        updated[name] = replace(source, url=url, resolve=None if direct else source.resolve)
    return updated


# ---- report -------------------------------------------------------------------------


class SourceResult(msgspec.Struct, kw_only=True):
    source: str
    list_name: str
    url: str
    ok: bool
    entries: int = 0
    bytes: int = 0
    error: str | None = None


class ListResult(msgspec.Struct, kw_only=True):
    name: str
    path: str
    written: bool
    entries: int = 0
    kept_sources: list[str] = []


class UpdateReport(msgspec.Struct, kw_only=True):
    sources: list[SourceResult] = []
    lists: list[ListResult] = []

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.sources)

    @property
    def failed(self) -> list[SourceResult]:
        return [result for result in self.sources if not result.ok]


# ---- download -----------------------------------------------------------------------


@dataclass
class _Downloader:
    timeout: float
    progress: Progress | None
    max_bytes: int = MAX_DOWNLOAD_BYTES
    received: dict[str, int] = field(default_factory=dict)

    def fetch(self, name: str, url: str) -> bytes:
        if not url.startswith(("https://", "http://")):
            raise SourceError(f"only http(s) URLs are fetched, not {url!r}")
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return self._read(name, response)
        except urllib.error.HTTPError as error:
            raise SourceError(f"HTTP {error.code} from {url}") from error
        except (urllib.error.URLError, OSError) as error:
            raise SourceError(f"cannot download {url}: {error}") from error

    def _read(self, name: str, response: Any) -> bytes:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        chunks: list[bytes] = []
        done = 0
        self._report(name, 0, total)
        while chunk := response.read(_CHUNK):
            chunks.append(chunk)
            done += len(chunk)
            if done > self.max_bytes:
                raise SourceError(f"larger than {self.max_bytes} bytes")
            self._report(name, done, total)
        self.received[name] = self.received.get(name, 0) + done
        return b"".join(chunks)

    def _report(self, name: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(name, done, total)


def validate_entries(entries: Sequence[str], min_entries: int) -> list[str]:
    """Normalised, de-duplicated networks; raises SourceError on a bad entry or too few."""
    networks: dict[str, None] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            networks[str(ipaddress.ip_network(entry.strip(), strict=False))] = None
        except ValueError as error:
            raise SourceError(f"entry {number} {entry[:60]!r} is not an IP or CIDR") from error
    if len(networks) < min_entries:
        raise SourceError(f"only {len(networks)} entries, expected at least {min_entries}")
    return list(networks)


def _download_source(name: str, source: Source, downloader: _Downloader) -> list[str]:
    url = source.url
    if source.resolve is not None:
        url = source.resolve(downloader.fetch(name, url), url)
    body = downloader.fetch(name, url)
    try:
        entries = source.parse(body)
    except (UnicodeDecodeError, csv.Error, AttributeError, TypeError) as error:
        raise SourceError(f"cannot parse the download: {error}") from error
    return validate_entries(entries, source.min_entries)


# ---- list files ---------------------------------------------------------------------


def read_sections(path: Path) -> dict[str, list[str]]:
    """The per-source sections of a list file written by `write_list` ({} if none)."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    for line in lines:
        if line.startswith(SECTION_MARKER):
            current = sections.setdefault(line[len(SECTION_MARKER) :].split()[0], [])
        elif current is not None and line.strip() and not line.startswith("#"):
            current.append(line.strip())
    return sections


def _atomic_write(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never a part of either."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o644)  # mkstemp's 0600 would hide it from the service
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_list(
    directory: Path,
    name: str,
    sections: Mapping[str, list[str]],
    sources: Mapping[str, Source],
    updated: Mapping[str, str],
) -> int:
    """Write NAME.txt (one section per source) and NAME.meta.json; the entry count."""
    lines = [f"# {name}: written by sessionscope lists update at {now_iso()}"]
    for source_name in sorted(sections):
        lines.append(f"{SECTION_MARKER}{source_name} {sources[source_name].url}")
        lines.extend(sections[source_name])
    _atomic_write(directory / f"{name}.txt", "\n".join(lines) + "\n")
    meta = {
        "source": ", ".join(sources[s].description for s in sorted(sections)),
        "updated_at": max(updated[s] for s in sections) if sections else now_iso(),
        "sources": {s: {"url": sources[s].url, "updated_at": updated[s],
                        "entries": len(sections[s])} for s in sorted(sections)},
    }  # fmt: skip
    _atomic_write(directory / f"{name}.meta.json", json.dumps(meta, indent=2) + "\n")
    return sum(len(entries) for entries in sections.values())


def _previous_updates(directory: Path, name: str) -> dict[str, str]:
    try:
        meta = json.loads((directory / f"{name}.meta.json").read_text(encoding="utf-8"))
        per_source = meta["sources"]
        return {k: v["updated_at"] for k, v in per_source.items() if isinstance(v, dict)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _update_one_list(
    directory: Path,
    name: str,
    fresh: Mapping[str, list[str]],
    failed: Sequence[str],
    sources: Mapping[str, Source],
) -> ListResult:
    path = directory / f"{name}.txt"
    if not fresh:
        return ListResult(name=name, path=str(path), written=False, kept_sources=list(failed))
    previous = read_sections(path)
    kept = [s for s in failed if s in previous]
    sections = {**{s: previous[s] for s in kept}, **fresh}
    previous_updates = _previous_updates(directory, name)
    now = now_iso()
    updated = {s: (now if s in fresh else previous_updates.get(s, now)) for s in sections}
    count = write_list(directory, name, sections, sources, updated)
    return ListResult(name=name, path=str(path), written=True, entries=count, kept_sources=kept)


def update_lists(
    lists_dir: Path,
    sources: Mapping[str, Source] = DEFAULT_SOURCES,
    progress: Progress | None = None,
    *,
    urls: Mapping[str, str] | None = None,
    only: Iterable[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> UpdateReport:
    """Download every source (or those named in `only`) and rewrite the lists they feed.

    A source that fails (network, HTTP status, parse, validation) is reported and its
    previous entries are kept; a list none of whose sources succeeded is left untouched.
    `urls` replaces source URLs by source name (e.g. a mirror, or this week's Azure file).
    """
    lists_dir.mkdir(parents=True, exist_ok=True)
    chosen = with_urls(sources, urls or {})
    if only is not None:
        wanted = set(only)
        chosen = {k: v for k, v in chosen.items() if k in wanted}
    downloader = _Downloader(timeout=timeout, progress=progress)
    report = UpdateReport()
    fresh: dict[str, dict[str, list[str]]] = {}
    failed: dict[str, list[str]] = {}
    for name, source in chosen.items():
        result = SourceResult(source=name, list_name=source.list_name, url=source.url, ok=True)
        try:
            entries = _download_source(name, source, downloader)
        except SourceError as error:
            result.ok, result.error = False, str(error)
            failed.setdefault(source.list_name, []).append(name)
        else:
            result.entries = len(entries)
            fresh.setdefault(source.list_name, {})[name] = entries
        result.bytes = downloader.received.get(name, 0)
        report.sources.append(result)
    for list_name in sorted({source.list_name for source in chosen.values()}):
        report.lists.append(
            _update_one_list(
                lists_dir, list_name, fresh.get(list_name, {}), failed.get(list_name, []), chosen
            )
        )
    return report
