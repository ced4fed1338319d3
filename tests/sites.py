"""Helpers for tests that need a site of their own in the shared stack: a fresh site with
the settings a test wants, and sessions opened on it."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import httpx

UA = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36"
    " (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36"
)


def fresh_site(client: httpx.Client, **settings: Any) -> str:
    """A new site of the client's tenant, with `settings`; its slug."""
    slug = f"t{uuid.uuid4().hex[:12]}"
    made = client.post("/v1/sites", json={"slug": slug})
    assert made.status_code == 201, made.text
    if settings:
        changed = client.patch(f"/v1/sites/{slug}", json={"settings": settings})
        assert changed.status_code == 200, changed.text
    return slug


def visitor_ip() -> str:
    """An address of TEST-NET-3 picked at random: these tests open hundreds of sessions, and
    from one address they would trip judgement's velocity limits for other tests' sessions."""
    return f"203.0.113.{secrets.randbelow(254) + 1}"


def open_session(client: httpx.Client, site: str, **fields: Any) -> dict[str, Any]:
    body = {"ip": visitor_ip(), "user_agent": UA, "site": site, **fields}
    made = client.post("/v1/sessions", json=body)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def event(client: httpx.Client, session_id: str, **body: Any) -> httpx.Response:
    return client.post(f"/v1/sessions/{session_id}/events", json=body)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
