"""Bad input gets a clear error naming the field, and writes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Stack

GOOD = {"ip": "81.2.69.142", "user_agent": "Mozilla/5.0"}


def count_sessions(client: httpx.Client) -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/sessions", params=params).json()
        total += len(page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_agent": "x"}, "ip"),
        ({**GOOD, "ip": 42}, "ip"),
        ({**GOOD, "ip": "999.1.1.1"}, "ip"),
        ({**GOOD, "ip": "not an ip"}, "ip"),
        ({**GOOD, "user_agent": None}, "user_agent"),
        ({**GOOD, "state": "logged_in"}, "state"),
        ({**GOOD, "state": "authenticated"}, "user"),
        ({**GOOD, "user": {"name": "no id"}}, "user.id"),
        ({**GOOD, "user": {"id": ""}}, "user.id"),
        ({**GOOD, "user": {"id": "a", "role": "x"}}, "user.role"),
        ({**GOOD, "id": "not-a-uuid"}, "id"),
        ({**GOOD, "site": "Bad Site!"}, "site"),
        ({**GOOD, "account_ids": "abc"}, "account_ids"),
        ({**GOOD, "account_ids": ["a"] * 101}, "account_ids"),
        ({**GOOD, "behaviour": {"mouse_num_events": -1}}, "behaviour.mouse_num_events"),
        ({**GOOD, "behaviour": {"mouse_moves": 3}}, "behaviour.mouse_moves"),
        ({**GOOD, "session_variables": [1, 2]}, "session_variables"),
        ({**GOOD, "user_agent": "x" * 5000}, "user_agent"),
        ({**GOOD, "surprise": True}, "surprise"),
    ],
)
def test_invalid_create_names_the_field(
    acme: httpx.Client, body: dict[str, Any], field: str
) -> None:
    before = count_sessions(acme)
    answer = acme.post("/v1/sessions", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["details"]["field"] == field
    assert error["code"] in {"invalid_field", "invalid_ip", "invalid_state"}
    assert field.rsplit(".", maxsplit=1)[-1] in error["message"] or field == "user"
    assert count_sessions(acme) == before


@pytest.mark.parametrize("raw", [b"{", b"[]", b"", b"null", b'{"ip": "1.2.3.4", ', b"\xff\xfe"])
def test_malformed_json_is_400(acme: httpx.Client, raw: bytes) -> None:
    answer = acme.post("/v1/sessions", content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] in {"invalid_json", "invalid_field"}


def test_oversized_body_is_413(acme: httpx.Client) -> None:
    before = count_sessions(acme)
    huge = {**GOOD, "metadata": {"blob": "x" * 70_000}}
    answer = acme.post("/v1/sessions", content=json.dumps(huge))
    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert count_sessions(acme) == before


def test_oversized_body_without_content_length_is_413(acme: httpx.Client) -> None:
    def chunks() -> Any:
        yield b'{"ip": "1.2.3.4", "user_agent": "x", "metadata": {"b": "'
        for _ in range(100):
            yield b"y" * 1000
        yield b'"}}'

    answer = acme.post("/v1/sessions", content=chunks())
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"cursor": "WzEsMl0"}, "cursor"),
        ({"state": "sleepy"}, "state"),
        ({"status": "gone"}, "status"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-01-01T00:00:00"}, "until"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_list_parameters_name_the_field(
    acme: httpx.Client, query: dict[str, str], field: str
) -> None:
    answer = acme.get("/v1/sessions", params=query)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["details"] == {"field": field}


@pytest.mark.parametrize("bad_id", ["abc", "123", "01a2-zz"])
def test_bad_session_ids_are_400(acme: httpx.Client, bad_id: str) -> None:
    for answer in (
        acme.get(f"/v1/sessions/{bad_id}"),
        acme.patch(f"/v1/sessions/{bad_id}", json={}),
        acme.post(f"/v1/sessions/{bad_id}/release"),
    ):
        assert answer.status_code == 400
        assert answer.json()["error"]["details"] == {"field": "id"}


def test_patch_validation(acme: httpx.Client) -> None:
    made = acme.post("/v1/sessions", json=GOOD).json()
    for body, field in (
        ({"state": "bogus"}, "state"),
        ({"id": "x"}, "id"),
        ({"account_ids": [1]}, "account_ids.0"),
    ):
        answer = acme.patch(f"/v1/sessions/{made['id']}", json=body)
        assert answer.status_code == 400
        assert answer.json()["error"]["details"] == {"field": field}
    assert acme.get(f"/v1/sessions/{made['id']}").json()["version"] == 1


def test_credentials(stack: Stack) -> None:
    made = stack.client(stack.key()).post("/v1/sessions", json=GOOD).json()
    path = f"/v1/sessions/{made['id']}"
    with stack.client() as bare:
        for headers in (
            {},
            {"x-api-key": "ss_sk_wrong"},
            {"Authorization": "Bearer nope"},
            {"Authorization": "Basic abc"},
            {"x-api-key": stack.tenants["acme"]["publishable_key"]},
            {"x-api-key": stack.tenants["acme"]["hmac_access_key"]},
        ):
            answer = bare.get(path, headers=headers)
            assert answer.status_code == 401, headers
            assert answer.json()["error"]["code"] == "unauthorized"
            posted = bare.post("/v1/sessions", json=GOOD, headers=headers)
            assert posted.status_code == 401


def test_unknown_route_and_method(acme: httpx.Client) -> None:
    assert acme.get("/v1/nothing").json()["error"]["code"] == "route_not_found"
    answer = acme.delete("/v1/sessions")
    assert answer.status_code == 405
    assert answer.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sessions?user_id=a%00b",
        "/v1/sessions?device_id=%00",
        "/v1/sites/we%00b",
        "/compat/mobilenext/api/v1/sessions?before=%00",
    ],
)
def test_nul_in_path_or_query_is_refused_before_any_store(acme: httpx.Client, path: str) -> None:
    answer = acme.get(path)
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.text


def test_nul_in_a_json_string_is_refused_and_writes_nothing(acme: httpx.Client) -> None:
    before = count_sessions(acme)
    body = json.dumps({**GOOD, "user": {"id": "a\u0000b"}})
    answer = acme.post("/v1/sessions", content=body)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_json"
    escaped = json.dumps({**GOOD, "user": {"id": "a\\u0000b"}})  # a backslash, then text
    assert acme.post("/v1/sessions", content=escaped).status_code == 201
    assert count_sessions(acme) == before + 1
