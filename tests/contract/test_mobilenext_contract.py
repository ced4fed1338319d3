"""Mobile Next answers against the schema written from its page (both stores)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.contract.compat import MAC_CHROME, PROFILES, create_session
from tests.contract.specs import (
    MOBILENEXT_LIST,
    MOBILENEXT_SESSION,
    mobilenext_documented_fields,
    schema_fields,
    validate,
)

BASE = "/compat/mobilenext/api/v1/sessions"


def mobilenext_get(
    stack: Stack, path: str, organization: str | None = None, key: str | None = None
) -> httpx.Response:
    headers = {"authorization": f"Bearer {key or stack.key()}"}
    if organization is not None:
        headers["x-organization-id"] = organization
    return httpx.get(f"{stack.base_url}{BASE}{path}", headers=headers, timeout=30)


def test_the_schemas_have_every_documented_field_with_its_type() -> None:
    fields = {
        path.rsplit(".", 1)[-1]: kind
        for schema in (MOBILENEXT_LIST, MOBILENEXT_SESSION)
        for path, kind in schema_fields(schema).items()
    }
    for name, (kind, _) in mobilenext_documented_fields().items():
        assert name in fields, name
        assert fields[name] in (kind, ""), name  # "" = string or null (nullable fields)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_answer_matches_the_spec_and_the_native_session(
    stack: Stack, profiles: dict[str, dict[str, Any]], profile: str
) -> None:
    native = profiles[profile]
    answer = mobilenext_get(stack, f"/{native['id']}", organization=native["site"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate(body, MOBILENEXT_SESSION)
    assert body["id"] == native["id"]
    assert body["organization"] == native["site_uuid"]
    assert body["createdAt"] == native["created_at"]
    assert body["releasedAt"] == native["released_at"]
    assert (body["releasedAt"] is None) == (profile != "released")
    device = native["device"]
    assert body["device"] == {
        "id": native["device_id"] or "",
        "platform": device["platform"] or "",
        "type": "emulator" if device["emulated"] else "real",
        "name": device["name"] or "",
        "osVersion": device["os_version"] or "",
    }
    assert uuid.UUID(body["user"]).version == 5


def test_user_is_the_same_uuid_for_every_session_of_a_user(stack: Stack) -> None:
    user = {"id": f"mn-{uuid.uuid4().hex[:8]}"}
    with stack.client(stack.key()) as client:
        first = create_session(
            client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "user": user}
        )
        second = create_session(client, {"ip": "1.2.3.4", "user_agent": MAC_CHROME, "user": user})
        other = create_session(client, {"ip": "1.2.3.4", "user_agent": MAC_CHROME})
    users = [mobilenext_get(stack, f"/{s['id']}").json()["user"] for s in (first, second, other)]
    assert users[0] == users[1] != users[2]


def test_list_answers_the_documented_shape_newest_first(
    stack: Stack, profiles: dict[str, dict[str, Any]]
) -> None:
    answer = mobilenext_get(stack, "?limit=3", organization="web")
    assert answer.status_code == 200, answer.text
    page = answer.json()
    validate(page, MOBILENEXT_LIST)
    assert page["object"] == "list" and len(page["data"]) == 3
    created = [session["createdAt"] for session in page["data"]]
    assert created == sorted(created, reverse=True)
    assert isinstance(page["nextCursor"], str)
    organizations = {session["organization"] for session in page["data"]}
    assert organizations == {profiles["desktop"]["site_uuid"]}


def test_default_page_is_100_and_the_last_page_has_no_cursor(stack: Stack) -> None:
    slug = f"mn{uuid.uuid4().hex[:8]}"
    with stack.client(stack.key()) as client:
        assert client.post("/v1/sites", json={"slug": slug}).status_code == 201
        for _ in range(3):
            create_session(client, {"ip": "81.2.69.142", "user_agent": MAC_CHROME, "site": slug})
    page = mobilenext_get(stack, "", organization=slug).json()
    validate(page, MOBILENEXT_LIST)
    assert len(page["data"]) == 3 and "nextCursor" not in page
