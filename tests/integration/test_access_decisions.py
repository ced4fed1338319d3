"""Access decisions over HTTP on both stores: what delivers an entitlement, consumption,
the stored `access` part, and no double spend under concurrent requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from sessionscope.access.periods import calendar_bounds
from sessionscope.clock import ms_to_rfc3339, rfc3339_to_ms
from tests.conftest import Stack
from tests.contract.compat import acme_zephr_get
from tests.paywall import decide, paywall
from tests.sites import event, open_session, unique


def test_a_meter_delivers_until_it_runs_out(acme: httpx.Client) -> None:
    site = paywall(acme)
    made = open_session(acme, site)
    first = decide(acme, made["id"], "story-1?utm=a")
    day_end = calendar_bounds("day", "America/New_York", rfc3339_to_ms(made["created_at"]))[1]
    assert first == {
        "decision": "allow",
        "entitlement": "premium",
        "content_id": "story-1?utm=a",
        "delivered_by": "meter",
        "source": "daily",
        "remaining_credits": 1,
        "refresh_time": first["refresh_time"],
        "access": first["access"],
    }
    assert rfc3339_to_ms(first["refresh_time"]) in (day_end, day_end + 86_400_000)
    second = decide(acme, made["id"], "story-2")
    assert second["decision"] == "allow" and second["remaining_credits"] == 0
    third = decide(acme, made["id"], "story-3")
    assert third["decision"] == "deny" and third["delivered_by"] is None
    stored = acme.get(f"/v1/sessions/{made['id']}").json()
    assert stored["version"] > made["version"]
    assert stored["access"] == {
        "user_state": "anonymous",
        "granted_bundles": ["free"],
        "delivered_entitlements": [],
        "meters": {
            "daily": {
                "refresh_time": first["refresh_time"],
                "meter_size": 2,
                "remaining_credits": 0,
                "content_ids": ["story-1", "story-2"],
                "content_id_transform": "strip_query",
            }
        },
        "credits": {},
        "jwt_bundles": [],
    }


def test_unique_content_counts_once_and_credits_come_after_meters(acme: httpx.Client) -> None:
    site = paywall(acme, size=1, counting="unique_content")
    acme.put(
        "/v1/access/bundles/free",
        params={"site": site},
        json={"name": "Free", "meters": ["daily"], "bundles": ["gifts"]},
    )
    made = open_session(acme, site)
    assert decide(acme, made["id"], "a")["delivered_by"] == "meter"
    again = decide(acme, made["id"], "a?ref=home")
    assert again["decision"] == "allow" and again["source"] == "daily"
    assert again["remaining_credits"] == 0
    gifted = decide(acme, made["id"], "b")
    assert (gifted["delivered_by"], gifted["source"], gifted["remaining_credits"]) == (
        "credit",
        "gift",
        1,
    )
    assert gifted["refresh_time"] is None
    assert decide(acme, made["id"], "b")["delivered_by"] == "credit"  # counted once
    assert decide(acme, made["id"], "c")["remaining_credits"] == 0
    assert decide(acme, made["id"], "d")["decision"] == "deny"
    access = acme.get(f"/v1/sessions/{made['id']}").json()["access"]
    assert access["granted_bundles"] == ["free"]
    assert access["credits"] == {
        "gift": {"remaining_credits": 0, "content_ids": ["b", "c"], "content_id_transform": None}
    }
    assert access["meters"]["daily"]["content_ids"] == ["a"]


def test_grants_deliver_directly_to_logged_in_users(acme: httpx.Client) -> None:
    site = paywall(acme, size=1)
    user = unique("u")
    grant = {"user_id": user, "bundle": "subscriber"}
    assert acme.post("/v1/access/grants", params={"site": site}, json=grant).status_code == 201
    made = open_session(acme, site)
    assert decide(acme, made["id"], "x", "archive")["decision"] == "deny"
    recognised = event(acme, made["id"], type="recognise", user={"id": user}).json()
    assert recognised["access"]["granted_bundles"] == ["free"]  # not logged in: no grants
    logged_in = event(acme, made["id"], type="login", user={"id": user}).json()
    assert logged_in["access"]["granted_bundles"] == ["free", "subscriber"]
    delivered = {e["id"]: e for e in logged_in["access"]["delivered_entitlements"]}
    assert delivered["archive"] == {
        "id": "archive",
        "direct": True,
        "metered_by": [],
        "credited_by": [],
    }
    assert delivered["premium"]["direct"] and delivered["premium"]["metered_by"] == ["daily"]
    for content in ("x", "y", "z"):
        answer = decide(acme, made["id"], content)
        assert (answer["delivered_by"], answer["source"]) == ("direct", "subscriber")
    out = event(acme, made["id"], type="logout").json()
    assert out["access"]["user_state"] == "anonymous"
    assert out["access"]["granted_bundles"] == ["free"]
    expired_grant = {
        "user_id": unique("u"),
        "bundle": "subscriber",
        "expires_at": "2020-01-01T00:00:00Z",
    }
    acme.post("/v1/access/grants", params={"site": site}, json=expired_grant)
    lapsed = open_session(acme, site, user={"id": expired_grant["user_id"]})
    assert lapsed["access"]["granted_bundles"] == ["free"]
    assert decide(acme, lapsed["id"], "x", "archive")["decision"] == "deny"


def test_meters_follow_the_user_across_sessions(acme: httpx.Client) -> None:
    site = paywall(acme, size=2)
    user = {"id": unique("u")}
    phone, laptop = open_session(acme, site, user=user), open_session(acme, site, user=user)
    assert decide(acme, phone["id"], "a")["remaining_credits"] == 1
    assert decide(acme, laptop["id"], "b")["remaining_credits"] == 0
    assert decide(acme, phone["id"], "c")["decision"] == "deny"
    stranger = open_session(acme, site)
    assert decide(acme, stranger["id"], "a")["remaining_credits"] == 1


def test_decisions_refuse_what_they_cannot_answer(
    stack: Stack, acme: httpx.Client, globex: httpx.Client
) -> None:
    site = paywall(acme)
    made = open_session(acme, site)
    for body, field in (
        ({"content_id": "a", "entitlement": "gold"}, "entitlement"),
        ({"content_id": "", "entitlement": "premium"}, "content_id"),
        ({"entitlement": "premium"}, "content_id"),
        ({"content_id": "a", "entitlement": "premium", "x": 1}, "x"),
    ):
        answer = acme.post(f"/v1/sessions/{made['id']}/access-decisions", json=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["details"]["field"] == field
    theirs = globex.post(
        f"/v1/sessions/{made['id']}/access-decisions",
        json={"content_id": "a", "entitlement": "premium"},
    )
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "session_not_found"
    reader = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read"]}).json()["key"]
    with stack.client(reader) as client:
        refused = client.post(
            f"/v1/sessions/{made['id']}/access-decisions",
            json={"content_id": "a", "entitlement": "premium"},
        )
        assert refused.status_code == 403
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == made["version"]
    acme.post(f"/v1/sessions/{made['id']}/release")
    ended = acme.post(
        f"/v1/sessions/{made['id']}/access-decisions",
        json={"content_id": "a", "entitlement": "premium"},
    )
    assert ended.status_code == 409 and ended.json()["error"]["code"] == "session_inactive"
    fresh = open_session(acme, site)
    assert decide(acme, fresh["id"], "a")["remaining_credits"] == 1  # nothing was spent


@pytest.mark.parametrize("counting", ["page_views", "unique_content"])
def test_concurrent_decisions_never_spend_twice(
    stack: Stack, acme: httpx.Client, counting: str
) -> None:
    size, attempts = 5, 24
    site = paywall(acme, size=size, counting=counting)
    acme.put(
        "/v1/access/bundles/free", params={"site": site}, json={"name": "Free", "meters": ["daily"]}
    )
    user = {"id": unique("u")}
    sessions = [open_session(acme, site, user=user)["id"] for _ in range(3)]

    def attempt(i: int) -> str:
        with stack.client(stack.key("acme")) as client:
            answer = client.post(
                f"/v1/sessions/{sessions[i % 3]}/access-decisions",
                json={"content_id": f"story-{i}", "entitlement": "premium"},
            )
            assert answer.status_code == 200, answer.text
            decision: str = answer.json()["decision"]
            return decision

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        decisions = list(pool.map(attempt, range(attempts)))
    assert decisions.count("allow") == size
    assert decisions.count("deny") == attempts - size
    later = decide(acme, sessions[0], "story-late")
    assert later["decision"] == "deny"
    meter = later["access"]["meters"]["daily"]
    assert meter["remaining_credits"] == 0 and len(meter["content_ids"]) == size


def test_refresh_time_is_midnight_in_the_meters_zone(acme: httpx.Client) -> None:
    site = paywall(acme)
    made = open_session(acme, site)
    created = rfc3339_to_ms(made["created_at"])
    start, end = calendar_bounds("day", "America/New_York", created)
    meter = made["access"]["meters"]["daily"]
    assert meter["refresh_time"] == ms_to_rfc3339(end)
    assert meter["remaining_credits"] == 2 and meter["content_ids"] == []
    assert made["access"]["delivered_entitlements"] == [
        {"id": "premium", "direct": False, "metered_by": ["daily"], "credited_by": []}
    ]
    assert start <= created < end


def test_the_zephr_dialect_renders_the_access_part(stack: Stack, acme: httpx.Client) -> None:
    site = paywall(acme)
    made = open_session(acme, site)
    decide(acme, made["id"], "story-1?from=home")
    answer = acme_zephr_get(stack, f"/v3/sessions/{made['id']}")
    assert answer.status_code == 200, answer.text
    model = answer.json()["access_model"]
    meter = model["meters"]["daily"]
    assert meter == {
        "refreshTime": meter["refreshTime"],
        "meterSize": 2,
        "remainingCredits": 1,
        "contentIds": ["story-1"],
        "contentIdTransform": "strip_query",
    }
    assert meter["refreshTime"]
    assert model["credits"] == {}
    assert model["delivered_entitlements"] == [
        {"id": "premium", "direct": False, "meteredBy": ["daily"], "creditedBy": []}
    ]
    assert model["granted_bundles"] == ["free"] and model["user_state"] == "anonymous"
