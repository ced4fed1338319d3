"""Bad reports to /v1/collect: a 4xx in the native envelope, and nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.collecting import ORIGIN, Collector, signals
from tests.conftest import Stack


@pytest.fixture(scope="module")
def collector(stack: Stack) -> Iterator[Collector]:
    yield Collector.make(stack.base_url, stack.server.database_url, prefix="collect-bad")


def assert_refused(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"signals": {"screen_width": "wide"}}, "signals.screen_width"),
        ({"signals": {"hardware_concurrency": -2}}, "signals.hardware_concurrency"),
        ({"signals": {"webdriver": "yes"}}, "signals.webdriver"),
        ({"signals": "all of them"}, "signals"),
        ({"behaviour": {"mouse_num_events": -1}}, "behaviour.mouse_num_events"),
        ({"behaviour": {"page_views": 1.5}}, "behaviour.page_views"),
        ({"behaviour": {"mouse_moves": 3}}, "behaviour.mouse_moves"),
        ({"session_id": 42}, "session_id"),
        ({"session_id": "not-a-uuid"}, "session_id"),
        ({"signals": signals(languages=["en"] * 33)}, "signals.languages"),
        ({"signals": signals(automation=["webdriver"] * 65)}, "signals.automation"),
        ({"signals": signals(gpu_renderer="x" * 600)}, "signals.gpu_renderer"),
        ({"signals": signals(device_token="short")}, "signals.device_token"),
        ({"signals": signals(device_token="not a token at all!!")}, "signals.device_token"),
        ({"signals": signals(device_token="t" * 129)}, "signals.device_token"),
        ({"signals": {"ua_data": {"brands": [{"brand": "x"}] * 21}}}, "signals.ua_data.brands"),
        ({"page_url": "https://shop.example/" + "x" * 5000}, "page_url"),
        ({"signals": {"battery_level": 0.5}}, "signals.battery_level"),
        ({"site": "blog"}, "site"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_invalid_reports_name_the_field(
    collector: Collector, body: dict[str, Any], field: str
) -> None:
    before = collector.count_sessions()
    error = assert_refused(collector.post(body), 400, "invalid_field")
    assert error["details"]["field"] == field
    assert collector.count_sessions() == before


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"signals": {'])
def test_malformed_bodies(collector: Collector, raw: bytes) -> None:
    before = collector.count_sessions()
    answer = collector.post(raw)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] in {"invalid_json", "invalid_field"}
    assert collector.count_sessions() == before


def test_oversized_report_is_413(collector: Collector) -> None:
    before = collector.count_sessions()
    huge = json.dumps({"signals": signals(), "referrer": "x" * 20_000}).encode()
    assert_refused(collector.post(huge), 413, "payload_too_large")
    assert collector.count_sessions() == before


def test_oversized_user_agent_header(collector: Collector) -> None:
    before = collector.count_sessions()
    answer = collector.post({"signals": signals()}, headers={"user-agent": "M" * 5000})
    assert_refused(answer, 400, "invalid_header")
    assert collector.count_sessions() == before


@pytest.mark.parametrize(
    ("origin", "code"),
    [
        ("https://evil.example", "origin_not_allowed"),
        ("http://shop.example", "origin_not_allowed"),
        ("https://shop.example:8443", "origin_not_allowed"),
        ("https://shop.example.evil.example", "origin_not_allowed"),
        ("null", "origin_not_allowed"),
        (None, "origin_required"),
    ],
)
def test_wrong_origin_is_403(collector: Collector, origin: str | None, code: str) -> None:
    before = collector.count_sessions()
    answer = collector.post({"signals": signals()}, origin=origin)
    assert_refused(answer, 403, code)
    assert "access-control-allow-origin" not in answer.headers
    assert collector.count_sessions() == before


def test_keys_that_do_not_open_collect(stack: Stack, collector: Collector) -> None:
    before = collector.count_sessions()
    with collector.admin() as admin:
        spare = admin.post(
            "/v1/keys", json={"kind": "publishable", "site": "web", "origins": [ORIGIN]}
        ).json()
        assert admin.delete(f"/v1/keys/{spare['id']}").status_code == 204
    for key in (
        spare["key"],
        collector.secret,
        "ss_pk_unknown",
        stack.tenants["acme"]["secret_key"],
    ):
        for in_query in (True, False):
            answer = collector.post({"signals": signals()}, key=key, in_query=in_query)
            assert_refused(answer, 401, "unauthorized")
    bare = httpx.post(
        f"{collector.base_url}/v1/collect", json={"signals": signals()}, headers={"origin": ORIGIN}
    )
    assert_refused(bare, 401, "unauthorized")
    assert collector.count_sessions() == before


def test_bad_update_leaves_the_session_alone(collector: Collector) -> None:
    opened = collector.open(behaviour={"page_views": 1})
    before = collector.session(opened["session_id"])
    answer = collector.post(
        {"session_id": opened["session_id"], "behaviour": {"page_views": "many"}}
    )
    assert_refused(answer, 400, "invalid_field")
    assert collector.session(opened["session_id"]) == before


def test_demo_session_read_needs_the_demo(stack: Stack, collector: Collector) -> None:
    opened = collector.open()
    answer = httpx.get(
        f"{stack.base_url}/demo/session",
        params={"id": opened["session_id"]},
        headers={"x-api-key": collector.key},
    )
    assert_refused(answer, 404, "demo_disabled")
