"""Every session is enriched from real data files: served over HTTP, checked end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.geodata import geoip_env
from tests.server import Server, cli, init_tenant

MAC_CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/137.0.0.0 Mobile Safari/537.36"
)


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("enriched")
    lists = folder / "lists"
    lists.mkdir()
    (lists / "tor_exit.txt").write_text("# test exits\n185.220.101.4\n")
    (lists / "private_relay.txt").write_text("172.224.224.0/27\n")
    url = f"sqlite:///{folder / 'db.sqlite'}"
    env = {**geoip_env(), "SESSIONSCOPE_LISTS_DIR": str(lists)}
    key = init_tenant(url, "geo", "web")["secret_key"]
    server = Server(url, env=env).start(folder)
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": key}) as client:
        yield client
    server.stop()


def open_session(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    answer = client.post("/v1/sessions", json={"user_agent": MAC_CHROME, **fields})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def test_location_and_network_from_the_databases(enriched: httpx.Client) -> None:
    session = open_session(enriched, ip="81.2.69.142")
    location = session["location"]
    assert location["country_code"] == "GB" and location["city"] == "London"
    assert location["continent"] == "EU" and location["state"] == "England"
    assert location["timezone"] == "Europe/London"
    assert location["latitude"] is not None and location["accuracy_radius_km"] is not None
    assert session["network"]["ip_address"] == "81.2.69.142"
    assert enriched.get(f"/v1/sessions/{session['id']}").json()["location"] == location


def test_asn_and_provider(enriched: httpx.Client) -> None:
    network = open_session(enriched, ip="1.128.0.1")["network"]
    assert network["asn"] == 1221
    assert "Telstra" in network["service_provider"]


def test_device_and_browser_from_the_user_agent(enriched: httpx.Client) -> None:
    mac = open_session(enriched, ip="81.2.69.142")
    assert mac["device"]["category"] == "desktop"
    assert mac["device"]["name"] == "Apple Macintosh"
    assert mac["browser"]["type"] == "Chrome" and mac["browser"]["version"] == "137.0.0.0"
    phone = open_session(enriched, ip="81.2.69.142", user_agent=IPHONE)
    assert phone["device"]["category"] == "mobile" and phone["device"]["name"] == "Apple iPhone"


def test_client_hints_refine_the_frozen_user_agent(enriched: httpx.Client) -> None:
    headers = {
        "Sec-CH-UA": '"Chromium";v="137", "Google Chrome";v="137", "Not/A)Brand";v="24"',
        "Sec-CH-UA-Mobile": "?1",
        "Sec-CH-UA-Platform": '"Android"',
        "Sec-CH-UA-Model": '"SM-S918B"',
        "Sec-CH-UA-Platform-Version": '"14.0.0"',
    }
    device = open_session(enriched, ip="81.2.69.142", user_agent=ANDROID_CHROME,
                          headers=headers)["device"]
    assert device["model"] == "SM-S918B"
    assert device["name"] == "Samsung Galaxy S23 Ultra"
    assert device["os_version"].startswith("14")


def test_ip_lists_classify_the_network(enriched: httpx.Client) -> None:
    relay = open_session(enriched, ip="172.224.224.9")
    assert relay["network"]["connection_type"] == "private_relay"


def test_unknown_and_private_addresses_stay_null(enriched: httpx.Client) -> None:
    private = open_session(enriched, ip="10.1.2.3")
    assert private["location"]["country_code"] is None
    assert private["network"]["asn"] is None and private["network"]["ip_address"] == "10.1.2.3"


def test_a_missing_database_stops_start_up_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    missing = str(tmp_path / "nowhere.mmdb")
    done = cli(url, "serve", env={"SESSIONSCOPE_GEOIP_CITY": missing}, check=False)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SESSIONSCOPE_GEOIP_CITY" in lines[0] and missing in lines[0]
