"""Helpers for access tests: defining a site's access model over the admin API, and asking
for decisions."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sites import fresh_site


def create(client: httpx.Client, site: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    made = client.post(f"/v1/access/{kind}", params={"site": site}, json=body)
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


NEW_YORK_DAY = {"kind": "calendar", "unit": "day", "time_zone": "America/New_York"}


def decide(
    client: httpx.Client, session_id: str, content: str, entitlement: str = "premium"
) -> dict[str, Any]:
    answer = client.post(
        f"/v1/sessions/{session_id}/access-decisions",
        json={"content_id": content, "entitlement": entitlement},
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def paywall(client: httpx.Client, size: int = 2, counting: str = "page_views") -> str:
    """A new site where everyone gets `size` premium reads a New York day (meter `daily`),
    bundle `subscriber` gives premium and archive outright, and bundle `gifts` holds a
    two-use credit (`gift`) that no visitor holds unless a test adds it."""
    site = fresh_site(client)
    create(client, site, "entitlements", {"id": "premium", "name": "Premium"})
    create(client, site, "entitlements", {"id": "archive", "name": "Archive"})
    meter = {
        "id": "daily",
        "name": "Daily",
        "entitlements": ["premium"],
        "size": size,
        "period": NEW_YORK_DAY,
        "counting": counting,
        "content_id_transform": "strip_query",
    }
    create(client, site, "meters", meter)
    create(
        client,
        site,
        "credits",
        {
            "id": "gift",
            "name": "Gift",
            "entitlements": ["premium"],
            "size": 2,
            "counting": "unique_content",
        },
    )
    create(client, site, "bundles", {"id": "free", "name": "Free", "meters": ["daily"]})
    create(client, site, "bundles", {"id": "gifts", "name": "Gifts", "credits": ["gift"]})
    create(
        client,
        site,
        "bundles",
        {"id": "subscriber", "name": "Subscriber", "entitlements": ["premium", "archive"]},
    )
    defaults = {"anonymous": "free", "registered": "free"}
    assert (
        client.put("/v1/access/defaults", params={"site": site}, json=defaults).status_code == 200
    )
    return site
