"""POST /v1/collect over real HTTP on both stores: sessions, behaviour, identity, CORS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.collecting import CHROME_UA, ORIGIN, Collector, new_token, signals
from tests.conftest import Stack


@pytest.fixture(scope="module")
def collector(stack: Stack) -> Iterator[Collector]:
    yield Collector.make(stack.base_url, stack.server.database_url)


def test_first_report_opens_a_session(collector: Collector) -> None:
    answer = collector.post(
        {
            "signals": signals(),
            "behaviour": {"mouse_num_events": 3, "page_views": 1},
            "page_url": "https://shop.example/basket",
            "referrer": "https://search.example/",
        },
        headers={"accept-language": "de-DE,de;q=0.9", "sec-ch-ua-platform": '"Windows"'},
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    opened = answer.json()
    assert set(opened) == {"session_id", "device_id"}
    assert len(opened["device_id"]) == 22 and opened["device_id"].isalnum()
    session = collector.session(opened["session_id"])
    assert session["tenant"] == collector.tenant and session["site"] == "web"
    assert session["device_id"] == opened["device_id"]
    assert session["ip"] == "127.0.0.1"
    assert session["user_agent"] == CHROME_UA
    assert session["accept_language"] == "de-DE,de;q=0.9"
    assert session["headers"]["sec-ch-ua-platform"] == '"Windows"'
    assert session["page_url"] == "https://shop.example/basket"
    assert session["referrer"] == "https://search.example/"
    assert session["behaviour"]["mouse_num_events"] == 3
    device, browser = session["device"], session["browser"]
    assert device["identified_by"] == "new" and device["identification_confidence"] == 1
    assert (device["screen_width"], device["screen_height"]) == (2560, 1440)
    assert (device["cpu_cores"], device["memory"]) == (12, 8)
    assert device["gpu"].startswith("ANGLE (NVIDIA")
    assert device["platform"] == "Windows" and device["emulated"] is False
    assert browser["timezone"] == "Europe/Berlin"
    assert browser["languages"] == ["de-DE", "de", "en"] and browser["language"] == "de-DE"


def test_later_reports_grow_the_counts(collector: Collector) -> None:
    opened = collector.open(behaviour={"mouse_num_events": 10, "page_views": 1})
    first = collector.session(opened["session_id"])
    time.sleep(0.005)  # lets last_seen_at move by at least a millisecond
    update = {
        "session_id": opened["session_id"],
        "behaviour": {"mouse_num_events": 4, "keyboard_num_events": 7, "page_views": 2},
        "page_url": "https://shop.example/checkout",
    }
    answer = collector.post(update)
    assert answer.status_code == 200, answer.text
    assert answer.json() == opened
    later = collector.session(opened["session_id"])
    assert later["behaviour"]["mouse_num_events"] == 10  # counts never go down
    assert later["behaviour"]["keyboard_num_events"] == 7
    assert later["behaviour"]["page_views"] == 2
    assert later["page_url"] == "https://shop.example/checkout"
    assert later["version"] == first["version"] + 1
    assert later["last_seen_at"] > first["last_seen_at"]
    assert later["signals"]["canvas_hash"] == first["signals"]["canvas_hash"]


def test_refreshed_signals_replace_the_old(collector: Collector) -> None:
    opened = collector.open()
    moved = signals(automation=["cdp_runtime"], viewport_width=800)
    answer = collector.post({"session_id": opened["session_id"], "signals": moved})
    assert answer.status_code == 200, answer.text
    session = collector.session(opened["session_id"])
    assert session["signals"]["automation"] == ["cdp_runtime"]
    assert session["signals"]["viewport_width"] == 800
    assert session["device_id"] == opened["device_id"]


def test_key_in_header_and_json_body(collector: Collector) -> None:
    answer = collector.post(
        {"signals": signals()}, in_query=False, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 201, answer.text


def test_device_token_identifies_the_device(collector: Collector) -> None:
    token = new_token()
    first = collector.open(signals=signals(device_token=token, canvas_hash="aaaa000011112222"))
    # a different machine profile entirely, but the same persisted token
    moved = signals(device_token=token, screen_width=1280, screen_height=800, timezone="Asia/Tokyo")
    second = collector.open(signals=moved)
    assert second["device_id"] == first["device_id"]
    session = collector.session(second["session_id"])
    assert session["device"]["identified_by"] == "token"
    assert session["device"]["identification_confidence"] == 1
    assert session["signals"]["device_token"] is None  # only its digest is kept


def test_fingerprint_survives_an_update_and_a_resize(collector: Collector) -> None:
    profile = signals(gpu_renderer="ANGLE (Intel, Intel(R) Iris(R) Xe Graphics, D3D11)")
    first = collector.open(signals={**profile, "device_token": new_token()})
    updated = {
        **profile,
        "device_token": new_token(),  # storage was cleared: a new token
        "canvas_hash": "ffffeeeeddddcccc",  # the new browser version draws differently
        "audio_hash": "1111222233334444",
        "viewport_width": 900,
        "viewport_height": 600,
    }
    answer = collector.post(
        {"signals": updated},
        headers={"user-agent": CHROME_UA.replace("Chrome/137", "Chrome/138")},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["device_id"] == first["device_id"]
    device = collector.session(answer.json()["session_id"])["device"]
    assert device["identified_by"] == "fingerprint"
    assert 0.75 <= device["identification_confidence"] < 1
    # the token it came with now leads to the same device, whatever the fingerprint says
    again = collector.open(signals={**updated, "screen_width": 800, "screen_height": 600})
    assert again["device_id"] == first["device_id"]
    assert collector.session(again["session_id"])["device"]["identified_by"] == "token"


def test_other_profiles_get_other_devices(collector: Collector) -> None:
    profile = signals(gpu_renderer="ANGLE (AMD, Radeon RX 6600, D3D11)")
    first = collector.open(signals=profile)
    elsewhere = {
        **profile,
        "screen_width": 1920,
        "screen_height": 1080,
        "timezone": "America/New_York",
        "languages": ["en-US", "en"],
        "language": "en-US",
    }
    other = collector.open(signals=elsewhere)
    assert other["device_id"] != first["device_id"]
    device = collector.session(other["session_id"])["device"]
    assert device["identified_by"] == "new"
    assert device["identification_confidence"] < 1  # a near miss was seen
    firefox = collector.post(
        {"signals": profile},
        headers={
            "user-agent": "Mozilla/5.0 (Windows NT 10.0; rv:128.0) Gecko/20100101 Firefox/128"
        },
    )
    assert firefox.json()["device_id"] not in (first["device_id"], other["device_id"])


def test_sessions_from_the_backend_get_a_device(collector: Collector) -> None:
    token = new_token()
    opened = collector.open(signals=signals(device_token=token))
    with collector.admin() as client:
        made = client.post(
            "/v1/sessions",
            json={
                "ip": "81.2.69.142",
                "user_agent": CHROME_UA,
                "signals": signals(device_token=token),
            },
        )
        bare = client.post("/v1/sessions", json={"ip": "81.2.69.142", "user_agent": CHROME_UA})
    assert made.status_code == 201, made.text
    assert made.json()["device_id"] == opened["device_id"]
    assert made.json()["device"]["identified_by"] == "token"
    assert bare.json()["device_id"] is None  # no evidence: no device


@pytest.mark.parametrize("owner", ["other site", "other tenant", "nobody"])
def test_foreign_session_ids_answer_like_missing(
    stack: Stack, collector: Collector, acme: httpx.Client, owner: str
) -> None:
    if owner == "other site":
        with collector.admin() as client:
            assert client.post("/v1/sites", json={"slug": "blog"}).status_code in (201, 409)
            made = client.post(
                "/v1/sessions", json={"ip": "1.2.3.4", "user_agent": "x", "site": "blog"}
            )
        foreign = made.json()["id"]
    elif owner == "other tenant":
        foreign = acme.post("/v1/sessions", json={"ip": "1.2.3.4", "user_agent": "x"}).json()["id"]
    else:
        foreign = "01a20000-0000-7000-8000-000000000000"
    answer = collector.post({"session_id": foreign, "behaviour": {"page_views": 9}})
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "session_not_found"
    assert answer.headers["access-control-allow-origin"] == ORIGIN


def test_ended_session_is_refused(collector: Collector) -> None:
    opened = collector.open()
    with collector.admin() as client:
        released = client.post(f"/v1/sessions/{opened['session_id']}/release")
    assert released.status_code == 200
    answer = collector.post({"session_id": opened["session_id"], "behaviour": {"page_views": 2}})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "session_inactive"
    assert collector.session(opened["session_id"])["behaviour"]["page_views"] == 0


def test_preflight_for_allowed_origins_only(collector: Collector) -> None:
    asked = {"access-control-request-method": "POST", "access-control-request-headers": "x-api-key"}
    url = f"{collector.base_url}/v1/collect"
    allowed = httpx.options(url, params={"key": collector.key}, headers={**asked, "origin": ORIGIN})
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "x-api-key" in allowed.headers["access-control-allow-headers"]
    assert int(allowed.headers["access-control-max-age"]) > 0
    # a header-keyed request's preflight cannot show its key: any allowed origin passes
    unkeyed = httpx.options(url, headers={**asked, "origin": ORIGIN})
    assert unkeyed.status_code == 204
    for params, origin in (
        ({"key": collector.key}, "https://evil.example"),
        ({}, "https://evil.example"),
    ):
        refused = httpx.options(url, params=params, headers={**asked, "origin": origin})
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
        assert refused.json()["error"]["code"] == "origin_not_allowed"
    not_preflight = httpx.options(url, headers={"origin": ORIGIN})
    assert not_preflight.status_code == 400


def test_sdk_script_is_served_for_caching(stack: Stack) -> None:
    answer = httpx.get(f"{stack.base_url}/sdk.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in answer.headers["cache-control"]
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "Sessionscope" in answer.text
    etag = answer.headers["etag"]
    again = httpx.get(f"{stack.base_url}/sdk.js", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""


def test_openapi_lists_the_new_endpoints(stack: Stack) -> None:
    document = httpx.get(f"{stack.base_url}/openapi.json").json()
    paths = document["paths"]
    assert {"post", "options"} <= set(paths["/v1/collect"])
    assert "get" in paths["/sdk.js"] and "get" in paths["/demo"] and "get" in paths["/demo/session"]
    collect = paths["/v1/collect"]["post"]
    assert collect["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "CollectInput"
    )
    assert {"publishableKey", "publishableKeyQuery"} <= set(
        document["components"]["securitySchemes"]
    )


def test_demo_is_off_unless_configured(stack: Stack) -> None:
    answer = httpx.get(f"{stack.base_url}/demo")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "demo_disabled"
