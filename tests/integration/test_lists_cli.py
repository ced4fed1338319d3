"""`sessionscope lists update` and `lists show`, downloading from a loopback HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.listserver import Server
from tests.server import BIN

CLOUDFLARE = ["--only", "cloudflare_v4", "--only", "cloudflare_v6"]


@pytest.fixture
def fixtures() -> Iterator[Server]:
    server = Server()
    yield server
    server.close()


def sessionscope(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONSCOPE_")}
    return subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        timeout=60,
        check=False,
    )


def url_options(server: Server, *names: str) -> list[str]:
    urls = server.urls()
    return [option for name in names for option in ("--url", f"{name}={urls[name]}")]


def shown(lists_dir: Path) -> dict[str, dict[str, Any]]:
    done = sessionscope("lists", "show", "--lists-dir", str(lists_dir), "--json")
    assert done.returncode == 0, done.stderr
    return {row["name"]: row for row in json.loads(done.stdout)}


def tor_exits(count: int) -> bytes:
    return "".join(f"185.220.{n // 250}.{n % 250 + 1}\n" for n in range(count)).encode()


def test_update_writes_the_lists_and_show_lists_them(tmp_path: Path, fixtures: Server) -> None:
    lists_dir = tmp_path / "lists"
    args = ["lists", "update", "--lists-dir", str(lists_dir), *CLOUDFLARE]
    done = sessionscope(*args, *url_options(fixtures, "cloudflare_v4", "cloudflare_v6"))
    assert done.returncode == 0, done.stderr
    assert "cloudflare_v4" in done.stdout and "datacenter" in done.stdout
    datacenter = shown(lists_dir)["datacenter"]
    assert datacenter["size"] == 22
    assert datacenter["source"] == "Cloudflare IPv4 ranges, Cloudflare IPv6 ranges"
    assert datacenter["updated_at"] and datacenter["path"] == str(lists_dir / "datacenter.txt")


def test_a_failed_source_exits_non_zero_and_keeps_the_old_list(
    tmp_path: Path, fixtures: Server
) -> None:
    env = {"SESSIONSCOPE_LISTS_DIR": str(tmp_path)}
    fixtures.answer("tor", 200, tor_exits(150))
    first = sessionscope("lists", "update", "--only", "tor", *url_options(fixtures, "tor"), env=env)
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "tor_exit.txt").read_bytes()
    fixtures.answer("tor", 500, b"Internal Server Error")
    args = ["lists", "update", "--only", "tor_exit", "--json", *url_options(fixtures, "tor")]
    failed = sessionscope(*args, env=env)
    assert failed.returncode == 1
    assert "1 of 1 sources failed" in failed.stderr
    report = json.loads(failed.stdout)
    assert report["sources"][0]["ok"] is False and "HTTP 500" in report["sources"][0]["error"]
    assert report["lists"][0]["written"] is False
    assert (tmp_path / "tor_exit.txt").read_bytes() == before
    assert shown(tmp_path)["tor_exit"]["size"] == 150


def test_a_truncated_download_is_refused(tmp_path: Path, fixtures: Server) -> None:
    args = ["lists", "update", "--lists-dir", str(tmp_path), "--only", "tor"]
    done = sessionscope(*args, *url_options(fixtures, "tor"))  # the fixture has 12 exits
    assert done.returncode == 1
    assert "tor: only 12 entries, expected at least 100" in done.stderr
    assert not (tmp_path / "tor_exit.txt").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["lists", "update", "--url", "nope=http://127.0.0.1:9/x"], "--url 'nope': no such source"),
        (["lists", "update", "--url", "tor"], "expected NAME=https://"),
        (["lists", "update", "--only", "everything"], "--only 'everything': no such source"),
        (["lists", "show"], "--lists-dir or SESSIONSCOPE_LISTS_DIR"),
    ],
)
def test_bad_options_stop_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"SESSIONSCOPE_LISTS_DIR": str(tmp_path)} if args[1] == "update" else {}
    done = sessionscope(*args, env=env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_show_refuses_a_broken_list_file_naming_the_line(tmp_path: Path) -> None:
    (tmp_path / "vpn.txt").write_text("192.0.2.1\nnot-an-ip\n")
    done = sessionscope("lists", "show", "--lists-dir", str(tmp_path))
    assert done.returncode == 2
    assert "vpn.txt" in done.stderr and "line 2" in done.stderr
