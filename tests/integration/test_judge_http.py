"""Judgement over real HTTP: a served app on PostgreSQL with the geo test databases, IP
lists, and velocity counters in Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.geodata import geoip_env
from tests.judgecases import HEADLESS, MAC_CHROME
from tests.server import Server, init_tenant

SWEDEN = "89.160.20.112"  # Linköping
MELBOURNE = "214.0.1.5"
VPN = "1.2.0.1"


@pytest.fixture(scope="module")
def judged_server(
    postgres_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, str]]:
    folder = tmp_path_factory.mktemp("judged")
    lists = folder / "lists"
    lists.mkdir()
    (lists / "tor_exit.txt").write_text("185.220.101.4\n")
    (lists / "tor_exit.meta.json").write_text('{"updated_at": "2026-11-20T06:00:00Z"}')
    env = {
        **geoip_env(),
        "SESSIONSCOPE_LISTS_DIR": str(lists),
        "SESSIONSCOPE_REDIS_URL": redis_url,
        "SESSIONSCOPE_REDIS_PREFIX": redis_prefix,
    }
    server = Server(postgres_url, env=env).start(folder)
    try:
        yield server, postgres_url
    finally:
        server.stop()


@pytest.fixture
def client(judged_server: tuple[Server, str]) -> Iterator[httpx.Client]:
    """A client of a fresh tenant, so that no other test's sessions are its history."""
    server, url = judged_server
    key = init_tenant(url, f"judge-{uuid.uuid4().hex[:10]}", "web")["secret_key"]
    with httpx.Client(base_url=server.base_url, headers={"x-api-key": key}, timeout=30) as http:
        yield http


def open_session(client: httpx.Client, ip: str, **fields: Any) -> dict[str, Any]:
    answer = client.post("/v1/sessions", json={"ip": ip, "user_agent": MAC_CHROME, **fields})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


def test_sweden_to_melbourne_in_seconds_is_impossible_travel(client: httpx.Client) -> None:
    first = open_session(client, SWEDEN, user={"id": "traveller"})
    assert first["risk"]["impossible_travel"] == {"flag": False, "score": 0.0, "reasons": []}
    second = open_session(client, MELBOURNE, user={"id": "traveller"})
    travel = second["risk"]["impossible_travel"]
    assert travel["flag"] and travel["score"] == 1.0
    (reason,) = travel["reasons"]
    assert f"the user's previous session {first['id']} was in Linköping, SE" in reason
    assert "Melbourne, AU is 15," in reason and reason.endswith("limit of 900 km/h")
    assert second["risk"]["decision"] in ("suspicious", "fake")
    assert client.get(f"/v1/sessions/{second['id']}").json()["risk"] == second["risk"]


def test_travel_over_a_vpn_is_excluded_and_says_so(client: httpx.Client) -> None:
    open_session(client, SWEDEN, user={"id": "roamer"})
    over_vpn = open_session(client, VPN, user={"id": "roamer"})
    travel = over_vpn["risk"]["impossible_travel"]
    assert not travel["flag"] and "anonymizing networks are excluded" in travel["reasons"][0]
    assert over_vpn["risk"]["vpn"]["flag"]


def test_naming_the_user_later_rejudges_and_bumps_the_version(client: httpx.Client) -> None:
    open_session(client, SWEDEN, user={"id": "late"})
    anonymous = open_session(client, MELBOURNE)
    assert not anonymous["risk"]["impossible_travel"]["flag"]
    unchanged = client.patch(f"/v1/sessions/{anonymous['id']}", json={"metadata": {"a": 1}})
    assert unchanged.json()["risk"] == anonymous["risk"]  # no new evidence, same verdict
    named = client.patch(f"/v1/sessions/{anonymous['id']}", json={"user": {"id": "late"}})
    assert named.status_code == 200, named.text
    assert named.json()["version"] == anonymous["version"] + 2
    assert named.json()["risk"]["impossible_travel"]["flag"]


def test_automation_signals_make_a_bad_bot(client: httpx.Client) -> None:
    signals = {"webdriver": True, "automation": ["cdp_runtime", "headless_user_agent"]}
    made = open_session(client, SWEDEN, user_agent=HEADLESS, signals=signals)
    bot = made["bot"]
    assert bot["is_bot"] and bot["kind"] == "bad" and bot["score"] >= 0.99
    assert {"webdriver", "automation_framework", "headless_browser"} <= set(bot["flags"])
    assert made["risk"]["device_risk"]["flag"] and made["risk"]["decision"] == "fake"


def test_tor_from_the_served_list_with_its_date(client: httpx.Client) -> None:
    tor = open_session(client, "185.220.101.4")["risk"]["tor"]
    assert tor["reasons"] == [
        "IP 185.220.101.4 is a Tor exit node (list tor_exit, updated 2026-11-20)"
    ]


def test_velocity_is_counted_in_redis(
    client: httpx.Client, redis_url: str, redis_prefix: str
) -> None:
    limits = {"settings": {"velocity_limits": {"ip_5m": 2}}}
    assert client.patch("/v1/sites/web", json=limits).status_code == 200
    ip = "192.0.2.61"
    made = [open_session(client, ip) for _ in range(3)]
    assert "high_velocity" not in made[1]["bot"]["flags"]
    assert "high_velocity" in made[2]["bot"]["flags"]
    assert f"3 sessions from IP {ip} in 5 minutes (limit 2)" in made[2]["bot"]["reasons"]
    tenant = made[0]["tenant"]
    shared = redis.Redis.from_url(redis_url)
    try:
        members = shared.zrange(f"{redis_prefix}velocity:{tenant}:ip:{ip}", 0, -1)
    finally:
        shared.close()
    assert sorted(m.decode() for m in members) == sorted(s["id"] for s in made)


def test_bad_judgement_settings_are_refused_and_change_nothing(client: httpx.Client) -> None:
    before = client.get("/v1/sites/web").json()["settings"]
    inverted = {"settings": {"risk_suspicious_at": 0.9, "risk_fake_at": 0.2}}
    answer = client.patch("/v1/sites/web", json=inverted)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_settings"
    assert "risk_suspicious_at must not be above" in answer.json()["error"]["message"]
    wrong = client.patch("/v1/sites/web", json={"settings": {"velocity_limits": {"ip_1m": 3}}})
    assert wrong.status_code == 400
    assert client.get("/v1/sites/web").json()["settings"] == before


def test_stricter_thresholds_change_the_decision(client: httpx.Client) -> None:
    assert open_session(client, VPN)["risk"]["decision"] == "suspicious"
    strict = {"settings": {"risk_suspicious_at": 0.1, "risk_fake_at": 0.3}}
    assert client.patch("/v1/sites/web", json=strict).status_code == 200
    assert open_session(client, VPN)["risk"]["decision"] == "fake"
