"""A running service picks up replaced list files and geo databases, seen over HTTP."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.geodata import CITY, COUNTRY, require_test_databases
from tests.server import Server, init_tenant

T = TypeVar("T")
LONDON = "81.2.69.142"
PATIENCE_SECONDS = 20.0
PARTNERS_META = '{"source": "partner feed", "updated_at": "2025-06-02T10:00:00Z"}'


@dataclass
class Served:
    client: httpx.Client
    lists: Path
    city_db: Path


def replace_atomically(path: Path, content: bytes) -> None:
    """What `lists update` and `geoipupdate` do: write beside, then rename over."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def eventually(probe: Callable[[], T], wanted: Callable[[T], bool]) -> T:
    """Probe until the answer is the wanted one; the last answer if it never is."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    answer = probe()
    while not wanted(answer) and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = probe()
    return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_test_databases()
    folder = tmp_path_factory.mktemp("reload")
    lists = folder / "lists"
    lists.mkdir()
    (lists / "datacenter.txt").write_text("# nothing of ours yet\n1.2.3.4\n")
    (lists / "partners.txt").write_text("192.0.2.0/24\n2001:db8::/32\n")
    (lists / "partners.meta.json").write_text(PARTNERS_META)
    city_db = folder / "city.mmdb"
    shutil.copyfile(COUNTRY, city_db)  # a Country database knows no cities
    url = f"sqlite:///{folder / 'db.sqlite'}"
    env = {
        "SESSIONSCOPE_LISTS_DIR": str(lists),
        "SESSIONSCOPE_GEOIP_CITY": str(city_db),
        "SESSIONSCOPE_DATA_CHECK_SECONDS": "0.1",
    }
    key = init_tenant(url, "reload", "web")["secret_key"]
    server = Server(url, env=env).start(folder)
    try:
        with httpx.Client(base_url=server.base_url, headers={"x-api-key": key}) as client:
            yield Served(client, lists, city_db)
    finally:
        server.stop()


def new_session(client: httpx.Client, ip: str = LONDON) -> dict[str, Any]:
    answer = client.post("/v1/sessions", json={"ip": ip, "user_agent": "Mozilla/5.0"})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def global_lists(client: httpx.Client) -> dict[str, dict[str, Any]]:
    answer = client.get("/v1/lists")
    assert answer.status_code == 200, answer.text
    return {view["name"]: view for view in answer.json()["data"] if view["scope"] == "global"}


def test_global_lists_are_listed_read_only(served: Served) -> None:
    partners = global_lists(served.client)["partners"]
    assert partners["read_only"] is True and partners["size"] == 2
    assert partners["source"] == "partner feed"
    assert partners["updated_at"] == "2025-06-02T10:00:00Z"


def connection_type(client: httpx.Client) -> str | None:
    found: str | None = new_session(client)["network"]["connection_type"]
    return found


def test_a_replaced_list_file_reaches_new_sessions(served: Served) -> None:
    replace_atomically(served.lists / "datacenter.txt", b"1.2.3.4\n")
    before = eventually(lambda: connection_type(served.client), lambda found: found != "hosting")
    assert before != "hosting"
    replace_atomically(served.lists / "datacenter.txt", b"81.2.69.0/24\n")
    found = eventually(lambda: connection_type(served.client), lambda found: found == "hosting")
    assert found == "hosting"
    datacenter = global_lists(served.client)["datacenter"]
    assert datacenter["size"] == 1 and datacenter["source"] == "file:datacenter.txt"


def test_a_new_and_a_deleted_list_file_are_seen(served: Served) -> None:
    (served.lists / "fraud.txt").write_text("192.0.2.0/24\n198.51.100.0/24\n")
    seen = eventually(lambda: global_lists(served.client), lambda found: "fraud" in found)
    assert seen["fraud"]["size"] == 2
    (served.lists / "fraud.txt").unlink()
    gone = eventually(lambda: global_lists(served.client), lambda found: "fraud" not in found)
    assert "fraud" not in gone


def test_a_broken_replacement_keeps_the_previous_list(served: Served) -> None:
    replace_atomically(served.lists / "datacenter.txt", b"81.2.69.0/24\n10.0.0.0/8\n")
    eventually(lambda: global_lists(served.client), lambda found: found["datacenter"]["size"] == 2)
    replace_atomically(served.lists / "datacenter.txt", b"not an address\n")
    time.sleep(0.5)  # several check intervals: the broken file has been looked at
    assert global_lists(served.client)["datacenter"]["size"] == 2
    assert new_session(served.client)["network"]["connection_type"] == "hosting"


def test_a_replaced_geo_database_reaches_new_sessions(served: Served) -> None:
    replace_atomically(served.city_db, COUNTRY.read_bytes())
    before = eventually(
        lambda: new_session(served.client)["location"], lambda found: found["city"] is None
    )
    assert before["country_code"] == "GB" and before["city"] is None
    replace_atomically(served.city_db, CITY.read_bytes())
    location = eventually(
        lambda: new_session(served.client)["location"],
        lambda found: found["city"] is not None,
    )
    assert location["city"] == "London" and location["country_code"] == "GB"
