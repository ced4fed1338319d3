"""Timers on a shifted clock: lifetimes and idle timeouts running out, meter periods rolling
over in their time zone, and retention purges (periodic and by command).

A second server, `later`, serves the same database with SESSIONSCOPE_CLOCK_OFFSET_SECONDS
two days ahead: what the stack's server writes now, `later` reads as it will be in two days.
Nothing in the service is mocked. The periodic purge gets a server of its own, alive only
during its test, since a purge two days ahead would also clear today's meter usage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sessionscope.access.periods import calendar_bounds
from sessionscope.clock import rfc3339_to_ms
from tests.conftest import Stack
from tests.paywall import decide, paywall
from tests.server import Server, cli
from tests.sites import event, fresh_site, open_session, unique

SHIFT_DAYS = 2
DAY_MS = 86_400_000


@contextmanager
def shifted_server(stack: Stack, log_dir: Path, purge_seconds: int) -> Iterator[httpx.Client]:
    """A server on the stack's database, its clock SHIFT_DAYS ahead; a client with acme's key."""
    env = {
        "SESSIONSCOPE_CLOCK_OFFSET_SECONDS": str(SHIFT_DAYS * 86_400),
        "SESSIONSCOPE_PURGE_INTERVAL_SECONDS": str(purge_seconds),
    }
    server = Server(stack.server.database_url, env=env).start(log_dir)
    try:
        with httpx.Client(
            base_url=server.base_url, headers={"x-api-key": stack.key("acme")}, timeout=30
        ) as client:
            yield client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def later(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with shifted_server(stack, tmp_path_factory.mktemp(f"later-{stack.backend}"), 0) as client:
        yield client


def status(client: httpx.Client, session_id: str) -> str:
    found = client.get(f"/v1/sessions/{session_id}")
    assert found.status_code == 200, found.text
    value: str = found.json()["status"]
    return value


def listed(client: httpx.Client, site: str, state: str) -> set[str]:
    page = client.get("/v1/sessions", params={"site": site, "status": state, "limit": "500"})
    return {session["id"] for session in page.json()["data"]}


def test_lifetimes_run_out_by_state(acme: httpx.Client, later: httpx.Client) -> None:
    site = fresh_site(acme, session_lifetime_days=3, anonymous_lifetime_days=1)
    user = unique("u")
    anonymous = open_session(acme, site)["id"]
    member = open_session(acme, site, user={"id": user})["id"]
    assert status(acme, anonymous) == status(acme, member) == "active"
    assert status(later, anonymous) == "expired"
    assert status(later, member) == "active"
    assert listed(later, site, "expired") == {anonymous}
    assert listed(later, site, "active") == {member}
    users = later.get(f"/v1/users/{user}/sessions").json()["data"]
    assert [s["id"] for s in users] == [member]


def test_idle_sessions_expire_and_take_nothing_more(
    acme: httpx.Client, later: httpx.Client
) -> None:
    site = paywall(acme)
    acme.patch(f"/v1/sites/{site}", json={"settings": {"idle_timeout_minutes": 60}})
    made = open_session(acme, site)
    kept = event(acme, made["id"], type="heartbeat").json()
    assert kept["status"] == "active"
    assert status(later, made["id"]) == "expired"
    for answer in (
        event(later, made["id"], type="heartbeat"),
        later.post(
            f"/v1/sessions/{made['id']}/access-decisions",
            json={"content_id": "a", "entitlement": "premium"},
        ),
        later.patch(f"/v1/sessions/{made['id']}", json={"metadata": {"late": True}}),
    ):
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "session_inactive"
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == kept["version"]


def test_a_meter_period_rolls_over_in_its_zone(acme: httpx.Client, later: httpx.Client) -> None:
    site = paywall(acme, size=1)
    made = open_session(acme, site)
    today = decide(acme, made["id"], "a")
    assert today["decision"] == "allow"
    assert decide(acme, made["id"], "b")["decision"] == "deny"
    two_days_on = decide(later, made["id"], "b")
    assert two_days_on["decision"] == "allow" and two_days_on["remaining_credits"] == 0
    refresh = rfc3339_to_ms(two_days_on["refresh_time"])
    assert refresh - rfc3339_to_ms(today["refresh_time"]) >= SHIFT_DAYS * DAY_MS - 3_600_000
    assert calendar_bounds("day", "America/New_York", refresh - 1)[1] == refresh
    meter = two_days_on["access"]["meters"]["daily"]
    assert meter["content_ids"] == ["b"] and meter["refresh_time"] == two_days_on["refresh_time"]


def test_the_periodic_purge_keeps_only_what_retention_allows(
    stack: Stack, acme: httpx.Client, tmp_path: Path
) -> None:
    short = fresh_site(acme, retention_days=1, idle_timeout_minutes=60)
    released = open_session(acme, short)["id"]
    acme.post(f"/v1/sessions/{released}/release")
    idle = open_session(acme, short)["id"]
    kept_elsewhere = open_session(acme, fresh_site(acme))["id"]
    acme.post(f"/v1/sessions/{kept_elsewhere}/release")
    live = open_session(acme, fresh_site(acme, retention_days=1))["id"]
    with shifted_server(stack, tmp_path, purge_seconds=1):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            acme.get(f"/v1/sessions/{released}").status_code != 404
            or acme.get(f"/v1/sessions/{idle}").status_code != 404
        ):
            time.sleep(0.2)
    assert acme.get(f"/v1/sessions/{released}").status_code == 404
    assert acme.get(f"/v1/sessions/{idle}").status_code == 404
    assert status(acme, kept_elsewhere) == "released"
    assert status(acme, live) == "active"


def test_the_purge_command(stack: Stack, acme: httpx.Client) -> None:
    site = fresh_site(acme, retention_days=0)
    ended = open_session(acme, site)["id"]
    acme.post(f"/v1/sessions/{ended}/release")
    active = open_session(acme, site)["id"]
    done = cli(stack.server.database_url, "purge", "--json")
    assert json.loads(done.stdout)["sessions"] >= 1
    assert acme.get(f"/v1/sessions/{ended}").status_code == 404
    assert status(acme, active) == "active"
