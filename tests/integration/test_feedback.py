"""Feedback labels and verdict statistics over real HTTP, on both stores."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.judgecases import MAC_CHROME
from tests.server import init_tenant

DRIVEN = {"webdriver": True, "automation": ["cdp_runtime"]}


class Tenant:
    """A tenant of this module alone on the shared stack; each test opens its sessions on a
    site of its own (`site`), so that the statistics of one test are not another's."""

    def __init__(self, stack: Stack) -> None:
        self.slug = f"fb-{uuid.uuid4().hex[:10]}"
        self.key = init_tenant(stack.server.database_url, self.slug, "web")["secret_key"]
        self.http = stack.client(self.key)
        self.site = "web"

    def new_site(self) -> str:
        slug = f"s-{uuid.uuid4().hex[:10]}"
        assert self.http.post("/v1/sites", json={"slug": slug}).status_code == 201
        self.site = slug
        return slug

    def key_for(self, **spec: Any) -> httpx.Client:
        made = self.http.post("/v1/keys", json={"kind": "secret", **spec})
        assert made.status_code == 201, made.text
        return httpx.Client(base_url=self.http.base_url, headers={"x-api-key": made.json()["key"]})

    def open(self, ip: str, **fields: Any) -> dict[str, Any]:
        body = {"ip": ip, "user_agent": MAC_CHROME, "site": self.site, **fields}
        answer = self.http.post("/v1/sessions", json=body)
        assert answer.status_code == 201, answer.text
        made: dict[str, Any] = answer.json()
        return made

    def label(self, session_id: str, label: str, **extra: Any) -> httpx.Response:
        return self.http.post(f"/v1/sessions/{session_id}/feedback", json={"label": label, **extra})

    def stats(self, **params: str) -> dict[str, Any]:
        """Statistics of every site; the current site's alone unless told otherwise."""
        answer = self.http.get("/v1/stats/feedback", params={"site": self.site, **params})
        assert answer.status_code == 200, answer.text
        by_site: dict[str, Any] = {entry["site"]: entry for entry in answer.json()["data"]}
        return by_site


@pytest.fixture(scope="module")
def shared_tenant(stack: Stack) -> Iterator[Tenant]:
    made = Tenant(stack)
    yield made
    made.http.close()


@pytest.fixture
def tenant(shared_tenant: Tenant) -> Tenant:
    shared_tenant.new_site()
    return shared_tenant


def test_a_label_is_stored_and_shown(tenant: Tenant) -> None:
    session = tenant.open("81.2.69.142")
    answer = tenant.label(session["id"], "legit", note="called the customer")
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["session_id"] == session["id"] and view["site"] == tenant.site
    assert view["label"] == "legit" and view["note"] == "called the customer"
    assert view["decision"] == session["risk"]["decision"] and view["labelled_at"].endswith("Z")
    again = tenant.label(session["id"], "fraud").json()
    assert again["label"] == "fraud" and again["note"] is None
    assert tenant.stats()[tenant.site]["labels"] == {"fraud": 1}
    after = tenant.http.get(f"/v1/sessions/{session['id']}").json()
    assert after["version"] == session["version"]  # a label is not evidence about itself


def test_a_fraud_label_feeds_recent_fraud_ip(tenant: Tenant) -> None:
    ip = "203.0.113.77"
    labelled = tenant.open(ip)
    assert not tenant.open(ip)["risk"]["recent_fraud_ip"]["flag"]
    assert tenant.label(labelled["id"], "fraud").status_code == 200
    later = tenant.open(ip)["risk"]["recent_fraud_ip"]
    assert later["flag"] and later["score"] == 0.9
    assert later["reasons"] == [
        f"1 session from IP {ip} in the previous 168 hours was labelled fraud ({labelled['id']})"
    ]
    neighbour = tenant.open("203.0.113.78")["risk"]["recent_fraud_ip"]
    assert neighbour["score"] == 0.6 and "the network 203.0.113.0/24" in neighbour["reasons"][0]


def test_fake_verdicts_of_the_ip_count_too(tenant: Tenant) -> None:
    ip = "198.51.100.200"
    assert tenant.open(ip, signals=DRIVEN)["risk"]["decision"] == "fake"
    later = tenant.open(ip)["risk"]["recent_fraud_ip"]
    assert later["flag"] and "was judged fake" in later["reasons"][0]


def test_stats_give_precision_and_recall_per_site(tenant: Tenant) -> None:
    fake = [tenant.open("192.0.2.10", signals=DRIVEN) for _ in range(3)]
    real = [tenant.open("81.2.72.9") for _ in range(3)]
    assert {s["risk"]["decision"] for s in fake} == {"fake"}
    assert {s["risk"]["decision"] for s in real} == {"real"}
    for session, label in zip(fake + real, ["fraud", "fraud", "legit", "fraud", "legit", "legit"],
                              strict=True):  # fmt: skip
        assert tenant.label(session["id"], label).status_code == 200
    judged_bot = tenant.open("192.0.2.11", signals=DRIVEN)
    judged_people = [tenant.open("81.2.70.5") for _ in range(2)]
    for session, label in ((judged_bot, "bot"), (judged_people[0], "human"),
                           (judged_people[1], "bot")):  # fmt: skip
        assert tenant.label(session["id"], label).status_code == 200
    main = tenant.site
    shop_site = tenant.new_site()
    shop = tenant.open("81.2.71.5")
    tenant.label(shop["id"], "legit")
    web = tenant.stats(site=main)[main]
    assert web["labels"] == {"fraud": 3, "legit": 3, "bot": 2, "human": 1}
    assert web["fake"] == {
        "labelled": 6, "true_positives": 2, "false_positives": 1, "false_negatives": 1,
        "true_negatives": 2, "precision": 0.6667, "recall": 0.6667,
    }  # fmt: skip
    assert web["bot"] == {
        "labelled": 3, "true_positives": 1, "false_positives": 0, "false_negatives": 1,
        "true_negatives": 1, "precision": 1.0, "recall": 0.5,
    }  # fmt: skip
    only_shop = tenant.stats(site=shop_site)
    assert list(only_shop) == [shop_site]
    assert only_shop[shop_site]["fake"]["precision"] is None  # nothing judged fake
    assert only_shop[shop_site]["fake"]["true_negatives"] == 1
    every_site = tenant.http.get("/v1/stats/feedback").json()["data"]
    assert {main, shop_site} <= {entry["site"] for entry in every_site}
    bound = tenant.key_for(site=shop_site, scopes=["read"])
    with bound:
        answer = bound.get("/v1/stats/feedback").json()
    assert [entry["site"] for entry in answer["data"]] == [shop_site]


def test_labels_of_another_tenant_or_a_missing_session_are_not_found(
    tenant: Tenant, stack: Stack
) -> None:
    other = Tenant(stack)
    theirs = other.open("81.2.69.142")
    for session_id in (theirs["id"], str(uuid.uuid4())):
        answer = tenant.label(session_id, "fraud")
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "session_not_found"
    assert other.stats()["web"]["labels"] == {}
    other.http.close()


def test_bad_feedback_is_refused_and_writes_nothing(tenant: Tenant) -> None:
    session = tenant.open("81.2.69.142")
    cases = [
        ({"label": "spam"}, "label"),
        ({"label": "fraud", "note": "x" * 2000}, "note"),
        ({"label": "fraud", "score": 1}, "score"),
        ({}, "label"),
    ]
    for body, field in cases:
        answer = tenant.http.post(f"/v1/sessions/{session['id']}/feedback", json=body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["details"]["field"] == field
    not_an_id = tenant.http.post("/v1/sessions/not-a-uuid/feedback", json={"label": "fraud"})
    assert not_an_id.status_code == 400
    reader = tenant.key_for(scopes=["read"])
    with reader:
        denied = reader.post(f"/v1/sessions/{session['id']}/feedback", json={"label": "fraud"})
    assert denied.status_code == 403
    assert tenant.stats()[tenant.site]["labels"] == {}
    for params in ({"since": "yesterday"}, {"colour": "red"}, {"site": "nowhere"}):
        answer = tenant.http.get("/v1/stats/feedback", params=params)
        assert answer.status_code in (400, 404) and "error" in answer.json()


def test_the_endpoints_are_in_the_openapi_document(stack: Stack) -> None:
    paths = httpx.get(f"{stack.base_url}/openapi.json").json()["paths"]
    assert "post" in paths["/v1/sessions/{id}/feedback"]
    assert "get" in paths["/v1/stats/feedback"]
