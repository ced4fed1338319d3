"""IP sets (longest-prefix lookup) and named lists loaded from a folder."""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionscope.enrich.iplists import (
    IPListError,
    IPLists,
    IPSet,
    ListMatch,
    parse_ip,
    parse_list_lines,
)

# ---- parse_ip ---------------------------------------------------------------------


def test_parse_ip_versions_and_mapped_addresses() -> None:
    assert parse_ip("1.2.3.4") == (4, 0x01020304)
    assert parse_ip("::1") == (6, 1)
    assert parse_ip("::ffff:1.2.3.4") == (4, 0x01020304)
    assert parse_ip("fe80::1%eth0") == (6, int(ipaddress.ip_address("fe80::1")))


@pytest.mark.parametrize("bad", ["", "foo", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/32", ":::"])
def test_parse_ip_rejects_non_addresses(bad: str) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        parse_ip(bad)


# ---- IPSet ------------------------------------------------------------------------


def test_longest_prefix_wins() -> None:
    ipset = IPSet(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.1.7"])
    assert ipset.contains("10.1.2.3") == "10.1.2.0/24"
    assert ipset.contains("10.1.3.3") == "10.1.0.0/16"
    assert ipset.contains("10.200.0.1") == "10.0.0.0/8"
    assert ipset.contains("192.168.1.7") == "192.168.1.7/32"
    assert ipset.contains("192.168.1.8") is None
    assert ipset.contains("11.0.0.0") is None


def test_parent_range_resumes_after_a_nested_network() -> None:
    ipset = IPSet(["10.0.0.0/8", "10.0.0.0/24", "10.0.1.0/24"])
    assert ipset.contains("10.0.0.255") == "10.0.0.0/24"
    assert ipset.contains("10.0.1.0") == "10.0.1.0/24"
    assert ipset.contains("10.0.2.0") == "10.0.0.0/8"
    assert ipset.contains("10.255.255.255") == "10.0.0.0/8"


def test_ipv6_and_ipv4_are_kept_apart() -> None:
    ipset = IPSet(["2001:db8::/32", "0.0.0.0/0"])
    assert ipset.contains("2001:db8::1") == "2001:db8::/32"
    assert ipset.contains("2001:db9::1") is None
    assert ipset.contains("8.8.8.8") == "0.0.0.0/0"


def test_mapped_networks_and_addresses_count_as_ipv4() -> None:
    ipset = IPSet(["::ffff:10.0.0.0/104"])
    assert ipset.contains("10.1.2.3") == "10.0.0.0/8"
    assert ipset.contains("::ffff:10.1.2.3") == "10.0.0.0/8"


def test_duplicates_and_host_bits() -> None:
    ipset = IPSet(["10.0.0.1/8", "10.0.0.0/8", " 10.0.0.0/8 "])
    assert len(ipset) == 1
    assert ipset.contains("10.9.9.9") == "10.0.0.0/8"
    assert "10.9.9.9" in ipset
    assert "11.0.0.0" not in ipset


def test_empty_set_and_bad_entries() -> None:
    assert IPSet().contains("1.2.3.4") is None
    with pytest.raises(ValueError):
        IPSet(["10.0.0.0/33"])
    with pytest.raises(ValueError):
        IPSet([]).contains("nope")


networks = st.one_of(
    st.builds(
        lambda n, p: str(ipaddress.ip_network((n, p), strict=False)),
        st.integers(0, 2**32 - 1),
        st.integers(0, 32),
    ),
    st.builds(
        lambda n, p: str(ipaddress.ip_network((n, p), strict=False)),
        st.integers(0, 2**128 - 1),
        st.integers(0, 128),
    ),
)
addresses = st.one_of(
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n))),
)


def _most_specific(cidrs: list[str], ip: str) -> str | None:
    address = ipaddress.ip_address(ip)
    holding = [ipaddress.ip_network(c) for c in cidrs if address in ipaddress.ip_network(c)]
    return str(max(holding, key=lambda n: n.prefixlen)) if holding else None


@settings(max_examples=300, deadline=None)
@given(st.lists(networks, max_size=40), st.lists(addresses, max_size=20))
def test_matches_a_linear_scan(cidrs: list[str], probes: list[str]) -> None:
    ipset = IPSet(cidrs)
    # probe the edges of every network too, where off-by-one mistakes live
    edges = []
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        for value in (int(network.network_address) - 1, int(network.broadcast_address) + 1):
            if 0 <= value < 2**network.max_prefixlen:
                edges.append(str(ipaddress.ip_address(value) if network.version == 6 else
                                 ipaddress.IPv4Address(value)))  # fmt: skip
        edges += [str(network.network_address), str(network.broadcast_address)]
    for ip in probes + edges:
        if ipaddress.ip_address(ip).version == 6 and ipaddress.ip_address(ip).ipv4_mapped:
            continue  # mapped addresses are looked up as IPv4 on purpose
        assert ipset.contains(ip) == _most_specific(cidrs, ip), ip


# ---- list files ---------------------------------------------------------------------


def test_parse_list_lines_reports_bad_lines() -> None:
    entries, errors = parse_list_lines(
        [
            "# header",
            "1.2.3.4",
            "",
            "10.0.0.0/8  # office",
            "nonsense",
            "2001:db8::/32",
            "1.2.3.999",
        ]
    )
    assert entries == ["1.2.3.4", "10.0.0.0/8", "2001:db8::/32"]
    assert [(e.line, e.text) for e in errors] == [(5, "nonsense"), (7, "1.2.3.999")]


def _write(
    directory: Path, name: str, lines: list[str], meta: dict[str, str] | None = None
) -> None:
    (directory / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if meta is not None:
        (directory / f"{name}.meta.json").write_text(json.dumps(meta), encoding="utf-8")


def _bump(path: Path) -> None:
    """Make a rewrite visible even on file systems with coarse timestamps."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_load_dir_and_match(tmp_path: Path) -> None:
    _write(tmp_path, "tor_exit", ["185.220.101.1", "185.220.101.33"],
           {"source": "Tor Project", "updated_at": "2025-06-01T00:00:00Z"})  # fmt: skip
    _write(tmp_path, "datacenter", ["# clouds", "52.94.76.0/22", "185.220.0.0/16"])
    lists = IPLists()
    lists.load_dir(tmp_path)
    assert lists.names() == ["datacenter", "tor_exit"]
    found = lists.match("185.220.101.1")
    assert found.names == ["datacenter", "tor_exit"]
    assert found.get("tor_exit") == ListMatch(
        "tor_exit", "185.220.101.1/32", "2025-06-01T00:00:00Z", "Tor Project"
    )
    datacenter = found.get("datacenter")
    assert datacenter is not None
    assert datacenter.cidr == "185.220.0.0/16"
    assert datacenter.source == "file:datacenter.txt"
    assert datacenter.updated_at is not None and datacenter.updated_at.endswith("Z")
    assert "tor_exit" in found
    assert not lists.match("8.8.8.8")
    assert lists.match("8.8.8.8").names == []


def test_invalid_lines_raise_with_line_numbers(tmp_path: Path) -> None:
    _write(tmp_path, "vpn", ["10.0.0.0/8", "bogus-entry", "# fine", "1.2.3.4/40"])
    with pytest.raises(IPListError) as error:
        IPLists().load_dir(tmp_path)
    message = str(error.value)
    assert "vpn.txt" in message
    assert "line 2: 'bogus-entry'" in message
    assert "line 4: '1.2.3.4/40'" in message


def test_bad_list_name_and_missing_folder(tmp_path: Path) -> None:
    _write(tmp_path, "Bad Name", ["1.2.3.4"])
    with pytest.raises(IPListError, match="list names"):
        IPLists().load_dir(tmp_path)
    with pytest.raises(IPListError, match="SESSIONSCOPE_LISTS_DIR"):
        IPLists().load_dir(tmp_path / "missing")


def test_bad_meta_json(tmp_path: Path) -> None:
    _write(tmp_path, "proxy", ["1.2.3.4"])
    (tmp_path / "proxy.meta.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IPListError, match=r"proxy\.meta\.json"):
        IPLists().load_dir(tmp_path)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_reloads_changed_new_and_deleted_files(tmp_path: Path) -> None:
    clock = FakeClock()
    _write(tmp_path, "fraud", ["203.0.113.0/24"])
    lists = IPLists(check_interval=5, clock=clock)
    lists.load_dir(tmp_path)
    assert "fraud" in lists.match("203.0.113.9")

    _write(tmp_path, "fraud", ["198.51.100.0/24"])
    _bump(tmp_path / "fraud.txt")
    _write(tmp_path, "proxy", ["203.0.113.9"])
    assert "fraud" in lists.match("203.0.113.9")  # not checked again before the interval

    clock.now += 6
    found = lists.match("203.0.113.9")
    assert found.names == ["proxy"]
    assert "fraud" in lists.match("198.51.100.1")

    (tmp_path / "proxy.txt").unlink()
    clock.now += 6
    assert not lists.match("203.0.113.9")


def test_broken_rewrite_keeps_the_previous_list(tmp_path: Path) -> None:
    clock = FakeClock()
    _write(tmp_path, "vpn", ["10.0.0.0/8"])
    lists = IPLists(check_interval=1, clock=clock)
    lists.load_dir(tmp_path)
    _write(tmp_path, "vpn", ["10.0.0.0/8", "garbage"])
    _bump(tmp_path / "vpn.txt")
    clock.now += 2
    assert "vpn" in lists.match("10.1.1.1")
    assert lists.reload() is False


def test_meta_change_alone_is_picked_up(tmp_path: Path) -> None:
    _write(tmp_path, "tor_exit", ["1.2.3.4"], {"source": "a", "updated_at": "2025-01-01T00:00:00Z"})
    lists = IPLists()
    lists.load_dir(tmp_path)
    (tmp_path / "tor_exit.meta.json").write_text(
        json.dumps({"source": "b", "updated_at": "2025-02-01T00:00:00Z"}), encoding="utf-8"
    )
    _bump(tmp_path / "tor_exit.meta.json")
    assert lists.reload() is True
    match = lists.match("1.2.3.4").get("tor_exit")
    assert match is not None
    assert (match.source, match.updated_at) == ("b", "2025-02-01T00:00:00Z")


def test_in_memory_lists_from_rows() -> None:
    lists = IPLists()
    rows = [("198.51.100.0/24",), ("2001:db8::/48",)]
    lists.set("blocked_partners", (row[0] for row in rows), source="tenant acme",
              updated_at="2025-06-01T12:00:00Z")  # fmt: skip
    lists.set("fraud", IPSet(["198.51.100.7"]))
    found = lists.match("198.51.100.7")
    assert found.names == ["blocked_partners", "fraud"]
    assert found.get("fraud") == ListMatch("fraud", "198.51.100.7/32")
    assert lists.match("2001:db8::5").names == ["blocked_partners"]
    assert [info.size for info in lists.info()] == [2, 1]
    lists.remove("fraud")
    assert lists.match("198.51.100.7").names == ["blocked_partners"]
    with pytest.raises(ValueError):
        lists.set("Bad Name", [])
    with pytest.raises(ValueError):
        lists.match("not-an-ip")


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.lists(networks, max_size=15)),
       st.lists(addresses, max_size=15))  # fmt: skip
def test_combined_index_agrees_with_each_set(
    lists_by_name: dict[str, list[str]], probes: list[str]
) -> None:
    lists = IPLists()
    sets = {name: IPSet(cidrs) for name, cidrs in lists_by_name.items()}
    for name, ipset in sets.items():
        lists.set(name, ipset)
    for ip in probes + [c.split("/")[0] for cidrs in lists_by_name.values() for c in cidrs]:
        expected = {name: s.contains(ip) for name, s in sets.items() if s.contains(ip)}
        assert {m.name: m.cidr for m in lists.match(ip).matches} == expected
