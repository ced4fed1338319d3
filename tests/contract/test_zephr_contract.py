"""Zephr v3 and v4 answers against the schema written from the Zephr pages (both stores)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from sessionscope.clock import rfc3339_to_ms
from tests.conftest import Stack
from tests.contract.compat import MAC_CHROME, PROFILES, acme_zephr_get, create_session
from tests.contract.specs import (
    ZEPHR_SESSION,
    ZEPHR_V3,
    ZEPHR_V4,
    schema_fields,
    validate,
    zephr_documented_fields,
)

ZEPHR_DEVICES = {"desktop": "pc", "mobile": "mobile", "tablet": "tablet", "other": "other"}


def zephr_time(text: str) -> str:
    moment = datetime.fromtimestamp(rfc3339_to_ms(text) // 1000, UTC)
    return moment.strftime("%Y-%m-%d %H:%M ") + ("AM" if moment.hour < 12 else "PM") + " UTC"


def path_for(version: str, native: dict[str, Any]) -> str:
    if version == "v3":
        return f"/v3/sessions/{native['id']}"
    return f"/v4/sessions/{native['site']}/{native['id']}"


@pytest.mark.parametrize("name", [ZEPHR_V3, ZEPHR_V4])
def test_the_schema_has_exactly_the_documented_fields_and_types(name: str) -> None:
    assert schema_fields(ZEPHR_SESSION) == zephr_documented_fields(name)


@pytest.mark.parametrize("version", ["v3", "v4"])
@pytest.mark.parametrize("profile", list(PROFILES))
def test_answer_matches_the_spec_and_the_native_session(
    stack: Stack, profiles: dict[str, dict[str, Any]], profile: str, version: str
) -> None:
    native = profiles[profile]
    answer = acme_zephr_get(stack, path_for(version, native))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    validate(body, ZEPHR_SESSION)
    assert body["tenantId"] == "acme"
    assert body["subTenantId"] == f"acme|{native['site']}"
    assert body["authenticated"] is (native["state"] == "authenticated")
    assert body["v"] == native["version"]
    assert body.get("user_id") == (native["user"] or {}).get("id")
    assert body["last_updated"] == rfc3339_to_ms(native["updated_at"])
    for part in ("session_variables", "test_groups", "second_party_data"):
        assert body[part] == native[part]
    check_entry(body["sessions"][0], native)


def check_entry(entry: dict[str, Any], native: dict[str, Any]) -> None:
    assert entry["supplied"] is True
    assert entry["session_id"] == native["id"]
    assert entry["state"] == native["state"]
    assert entry["startDate"] == zephr_time(native["created_at"])
    end = native["released_at"] if native["status"] == "released" else native["expires_at"]
    assert entry["expiryDate"] == zephr_time(end)
    known = {
        "city": native["location"]["city"],
        "geoState": native["location"]["state"],
        "country": native["location"]["country_code"],
        "deviceName": native["device"]["name"],
        "browser": native["browser"]["type"],
    }
    for field, value in known.items():
        assert entry.get(field) == value, field
    category = native["device"]["category"]
    assert entry.get("device") == (ZEPHR_DEVICES.get(category) if category else None)
    assert ("os" in entry) == (native["device"]["platform"] is not None)


def test_desktop_mac_reads_in_zephr_words(
    stack: Stack, profiles: dict[str, dict[str, Any]]
) -> None:
    entry = acme_zephr_get(stack, path_for("v3", profiles["desktop"])).json()["sessions"][0]
    assert (entry["device"], entry["os"], entry["deviceName"], entry["browser"]) == (
        "pc",
        "Mac OSX",
        "Apple Macintosh",
        "Chrome",
    )
    assert entry["country"] == "GB"


def test_sessions_lists_the_users_other_active_sessions_on_that_site(stack: Stack) -> None:
    user = {"id": f"zephr-{uuid.uuid4().hex[:8]}"}
    body = {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "user": user}
    with stack.client(stack.key()) as client:
        first = create_session(client, body)
        second = create_session(client, body)
        ended = create_session(client, body)
        elsewhere = create_session(client, {**body, "site": "shop"})
        anonymous = create_session(client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME})
        assert client.post(f"/v1/sessions/{ended['id']}/release").status_code == 200
    listed = acme_zephr_get(stack, f"/v4/sessions/web/{first['id']}").json()["sessions"]
    assert [(s["session_id"], s["supplied"]) for s in listed] == [
        (first["id"], True),
        (second["id"], False),
    ]
    assert elsewhere["id"] not in {s["session_id"] for s in listed}
    # A released session of the user is still readable; it lists itself and the active ones.
    from_ended = acme_zephr_get(stack, f"/v3/sessions/{ended['id']}").json()["sessions"]
    assert [s["session_id"] for s in from_ended] == [ended["id"], second["id"], first["id"]]
    alone = acme_zephr_get(stack, f"/v3/sessions/{anonymous['id']}").json()["sessions"]
    assert [s["session_id"] for s in alone] == [anonymous["id"]]


def test_the_users_sessions_follow_each_change_between_two_reads(stack: Stack) -> None:
    """Read, change, read again: on SQLite the second read's list comes from the process's
    lists, which a release, a new session and a change of user must each move on."""
    user = {"id": f"zephr-{uuid.uuid4().hex[:8]}"}
    body = {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "user": user}
    path = "/v4/sessions/web/{}"

    def listed(session_id: str) -> list[str]:
        found = acme_zephr_get(stack, path.format(session_id)).json()["sessions"]
        return [entry["session_id"] for entry in found]

    with stack.client(stack.key()) as client:
        first, second = create_session(client, body), create_session(client, body)
        assert listed(first["id"]) == [first["id"], second["id"]]
        assert client.post(f"/v1/sessions/{second['id']}/release").status_code == 200
        assert listed(first["id"]) == [first["id"]]
        third = create_session(client, body)
        assert listed(first["id"]) == [first["id"], third["id"]]
        moved = client.patch(f"/v1/sessions/{third['id']}", json={"user": {"id": "someone"}})
        assert moved.status_code == 200
        assert listed(first["id"]) == [first["id"]]
