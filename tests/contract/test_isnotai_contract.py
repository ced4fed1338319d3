"""isnotai answers against the schema written from its page (both stores)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.contract.compat import PROFILES
from tests.contract.specs import (
    ISNOTAI_SESSION,
    isnotai_documented_fields,
    schema_fields,
    validate,
)


def isnotai_get(stack: Stack, session_id: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(
        f"{stack.base_url}/compat/isnotai/v1/sessions/{session_id}", headers=headers, timeout=30
    )


def test_the_schema_has_exactly_the_documented_fields_and_types() -> None:
    fields = schema_fields(ISNOTAI_SESSION)
    fields.pop("data")
    assert fields == isnotai_documented_fields()


@pytest.mark.parametrize("profile", list(PROFILES))
def test_answer_matches_the_spec_and_the_native_session(
    stack: Stack, profiles: dict[str, dict[str, Any]], profile: str
) -> None:
    native = profiles[profile]
    answer = isnotai_get(stack, native["id"], {"authorization": f"Bearer {stack.key()}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate(body, ISNOTAI_SESSION)
    data = body["data"]
    assert data["id"] == native["id"]
    assert (data["createdAt"], data["updatedAt"]) == (native["created_at"], native["updated_at"])
    assert data["status"] == ("active" if native["status"] == "active" else "closed")
    assert data.get("botScore") == native["bot"]["score"]
    assert data["detectionFlags"] == native["bot"]["flags"]
    assert data.get("pageUrl") == native["page_url"]
    user = native["user"] or {}
    assert (data.get("userId"), data.get("userName"), data.get("userUrl")) == (
        user.get("id"),
        user.get("name"),
        user.get("url"),
    )
    assert ("userAgentSummary" in data) == (native["browser"]["type"] is not None)


def test_user_agent_summary_reads_like_a_person_would_say_it(
    stack: Stack, profiles: dict[str, dict[str, Any]]
) -> None:
    native = profiles["desktop"]
    data = isnotai_get(stack, native["id"], {"x-api-key": stack.key()}).json()["data"]
    assert data["userAgentSummary"] == "Chrome 137 on macOS"
    released = profiles["released"]
    closed = isnotai_get(stack, released["id"], {"x-api-key": stack.key()}).json()["data"]
    assert closed["status"] == "closed"
