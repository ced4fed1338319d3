"""Downloading public IP lists, served from fixture files on a loopback HTTP server."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sessionscope.enrich import sources as sources_module
from sessionscope.enrich.iplists import IPLists
from sessionscope.enrich.sources import (
    DEFAULT_SOURCES,
    SourceError,
    parse_aws,
    parse_azure,
    parse_csv_first_column,
    parse_google_cloud,
    parse_oracle,
    parse_plain_lines,
    read_sections,
    resolve_azure_url,
    update_lists,
    validate_entries,
    with_urls,
)
from tests.listserver import FIXTURES, Server

# The real minimum counts are sized for the real lists; the fixtures are short.
SMALL_SOURCES = {name: replace(source, min_entries=1) for name, source in DEFAULT_SOURCES.items()}


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


def _update(lists_dir: Path, server: Server, **kwargs: object) -> sources_module.UpdateReport:
    return update_lists(lists_dir, SMALL_SOURCES, urls=server.urls(), timeout=5, **kwargs)  # type: ignore[arg-type]


def _lists(lists_dir: Path) -> IPLists:
    lists = IPLists()
    lists.load_dir(lists_dir)
    return lists


# ---- parsers --------------------------------------------------------------------------


def test_each_format_parser() -> None:
    def read(name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    assert parse_plain_lines(read("torbulkexitlist"))[:2] == ["185.220.101.1", "185.220.101.33"]
    aws = parse_aws(read("aws-ip-ranges.json"))
    assert "52.94.76.0/22" in aws and "2600:1f14:fff:f800::/56" in aws
    gcp = parse_google_cloud(read("gcp-cloud.json"))
    assert "34.1.208.0/20" in gcp and "2600:1900:8000::/44" in gcp
    azure = parse_azure(read("ServiceTags_Public_20250602.json"))
    assert azure[:2] == ["4.145.74.52/30", "13.66.60.119/32"] and "2603:1020:200::/46" in azure
    assert parse_oracle(read("oracle-public_ip_ranges.json")) == [
        "129.146.0.0/21", "134.70.8.0/21", "130.61.0.0/16"
    ]  # fmt: skip
    digitalocean = parse_csv_first_column(read("digitalocean-google.csv"))
    assert digitalocean[0] == "5.101.96.0/21" and "2a03:b0c0:0:1010::/64" in digitalocean
    assert parse_plain_lines(b"# comment\n\n10.0.0.0/8 # office\n") == ["10.0.0.0/8"]


def test_parsers_reject_the_wrong_shape() -> None:
    with pytest.raises(SourceError, match="not JSON"):
        parse_aws(b"<html>maintenance</html>")
    with pytest.raises(SourceError, match="'prefixes'"):
        parse_google_cloud(b'{"unexpected": true}')
    with pytest.raises(SourceError, match="'values'"):
        parse_azure(b"[1, 2]")


def test_azure_link_is_found_on_the_download_page() -> None:
    page = (FIXTURES / "azure-download.html").read_bytes()
    assert resolve_azure_url(
        page, "https://www.microsoft.com/en-us/download/confirmation.aspx?id=56519"
    ) == ("https://www.microsoft.com/lists/ServiceTags_Public_20250602.json")
    with pytest.raises(SourceError, match="ServiceTags_Public"):
        resolve_azure_url(b"<html></html>", "https://example.invalid/")


def test_validation() -> None:
    assert validate_entries(["10.0.0.1/8", "10.0.0.0/8", "::1"], 2) == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(SourceError, match=r"entry 2 'nope'"):
        validate_entries(["10.0.0.0/8", "nope"], 1)
    with pytest.raises(SourceError, match="only 1 entries, expected at least 5"):
        validate_entries(["10.0.0.0/8"], 5)


def test_url_overrides() -> None:
    updated = with_urls(
        DEFAULT_SOURCES, {"azure": "https://mirror.example/ServiceTags_Public_1.json"}
    )
    assert updated["azure"].resolve is None
    assert updated["aws"] == DEFAULT_SOURCES["aws"]
    with pytest.raises(KeyError):
        with_urls(DEFAULT_SOURCES, {"nonexistent": "https://example.invalid/"})


# ---- update_lists over loopback HTTP ----------------------------------------------------


def test_update_writes_every_list(tmp_path: Path, server: Server) -> None:
    events: list[tuple[str, int, int | None]] = []
    report = _update(tmp_path, server, progress=lambda s, d, t: events.append((s, d, t)))
    assert report.ok, report.failed
    assert sorted(result.name for result in report.lists if result.written) == [
        "datacenter", "private_relay", "tor_exit"
    ]  # fmt: skip
    lists = _lists(tmp_path)
    assert lists.match("185.220.101.33").names == ["tor_exit"]
    assert lists.match("52.94.77.1").get("datacenter").cidr == "52.94.76.0/22"  # type: ignore[union-attr]
    assert "datacenter" in lists.match("20.50.1.1")  # Azure, through its download page
    assert "datacenter" in lists.match("2606:4700::1111")  # Cloudflare IPv6
    assert "datacenter" in lists.match("130.61.4.4")  # Oracle
    assert lists.match("172.224.224.40").names == []  # the /27 ends at .31
    assert lists.match("172.224.224.33").names == ["private_relay"]

    meta = json.loads((tmp_path / "datacenter.meta.json").read_text())
    assert "Amazon Web Services IP ranges" in meta["source"]
    assert set(meta["sources"]) == {
        "aws", "google_cloud", "azure", "oracle", "digitalocean", "cloudflare_v4", "cloudflare_v6"
    }  # fmt: skip
    tor = next(result for result in report.sources if result.source == "tor")
    assert tor.entries == 12
    assert tor.bytes == (FIXTURES / "torbulkexitlist").stat().st_size
    tor_events = [event for event in events if event[0] == "tor"]
    assert tor_events[0][1] == 0
    assert tor_events[-1][1] == tor_events[-1][2] == tor.bytes
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_failing_source_keeps_the_previous_list(tmp_path: Path, server: Server) -> None:
    assert _update(tmp_path, server).ok
    tor_file = tmp_path / "tor_exit.txt"
    before = (tor_file.read_bytes(), tor_file.stat().st_ino)

    server.answer("tor", 500, b"Internal Server Error")
    report = _update(tmp_path, server, only=["tor"])
    assert not report.ok
    [failure] = report.failed
    assert (failure.source, failure.list_name) == ("tor", "tor_exit")
    assert "HTTP 500" in (failure.error or "")
    assert (tor_file.read_bytes(), tor_file.stat().st_ino) == before
    [tor_list] = report.lists
    assert not tor_list.written


def test_garbage_from_one_source_keeps_its_section(tmp_path: Path, server: Server) -> None:
    assert _update(tmp_path, server).ok
    server.answer("aws", 200, b"<html><body>We'll be back soon</body></html>")
    server.answer("oracle", 200, b'{"last_updated_timestamp": "2025-06-02", "regions": []}')
    server.answer("cloudflare_v4", 200, b"173.245.48.0/20\n104.16.0.0/13\n")
    report = _update(tmp_path, server)
    assert sorted(result.source for result in report.failed) == ["aws", "oracle"]
    assert "not JSON" in (next(r for r in report.failed if r.source == "aws").error or "")
    datacenter = next(result for result in report.lists if result.name == "datacenter")
    assert datacenter.written
    assert sorted(datacenter.kept_sources) == ["aws", "oracle"]

    sections = read_sections(tmp_path / "datacenter.txt")
    assert "52.94.76.0/22" in sections["aws"]  # kept from the previous download
    assert sections["cloudflare_v4"] == ["173.245.48.0/20", "104.16.0.0/13"]  # refreshed
    lists = _lists(tmp_path)
    assert "datacenter" in lists.match("52.94.76.1")
    assert "datacenter" not in lists.match("162.158.0.1")  # dropped by Cloudflare's new list


def test_invalid_entry_fails_the_source(tmp_path: Path, server: Server) -> None:
    server.answer("tor", 200, b"185.220.101.1\nnot-an-address\n")
    report = _update(tmp_path, server, only=["tor"])
    [failure] = report.failed
    assert "entry 2 'not-an-address'" in (failure.error or "")
    assert not (tmp_path / "tor_exit.txt").exists()


def test_real_minimum_counts_reject_a_truncated_list(tmp_path: Path, server: Server) -> None:
    report = update_lists(tmp_path, DEFAULT_SOURCES, urls=server.urls(), only=["tor"], timeout=5)
    [failure] = report.failed
    assert "only 12 entries, expected at least 100" in (failure.error or "")


def test_unreachable_source_is_reported(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    report = update_lists(tmp_path, SMALL_SOURCES, urls={"tor": f"http://127.0.0.1:{port}/list.txt"},
                          only=["tor"], timeout=2)  # fmt: skip
    [failure] = report.failed
    assert "cannot download" in (failure.error or "")


def test_only_http_urls_are_fetched(tmp_path: Path) -> None:
    report = update_lists(
        tmp_path, SMALL_SOURCES, urls={"tor": "file:///etc/hosts.txt"}, only=["tor"]
    )
    assert "only http(s) URLs" in (report.failed[0].error or "")


def test_swap_is_atomic(tmp_path: Path, server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _update(tmp_path, server, only=["tor"]).ok
    tor_file = tmp_path / "tor_exit.txt"
    with tor_file.open("rb") as reader_of_the_old_file:
        server.answer("tor", 200, b"198.51.100.7\n")
        assert _update(tmp_path, server, only=["tor"]).ok
        assert b"185.220.101.1" in reader_of_the_old_file.read()  # old inode, still whole
    assert "198.51.100.7" in tor_file.read_text()
    assert oct(tor_file.stat().st_mode & 0o777) == "0o644"

    def failing_replace(source: str, target: str) -> None:
        raise OSError("disk full")

    server.answer("tor", 200, b"203.0.113.1\n")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        _update(tmp_path, server, only=["tor"])
    assert "198.51.100.7" in tor_file.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
