"""`sessionscope access …` against the stack's database; the API sees what it wrote."""

from __future__ import annotations

import json

import httpx

from tests.conftest import Stack
from tests.server import cli
from tests.sites import fresh_site, unique


def test_the_access_commands_manage_what_the_api_serves(stack: Stack, acme: httpx.Client) -> None:
    site = fresh_site(acme)
    url = stack.server.database_url
    where = ["--tenant", "acme", "--site", site]
    acme.post("/v1/access/entitlements", params={"site": site}, json={"id": "premium", "name": "P"})
    meter = {
        "id": "weekly",
        "name": "Weekly",
        "entitlements": ["premium"],
        "size": 3,
        "period": {"kind": "calendar", "unit": "week", "time_zone": "Europe/Paris"},
    }
    made = cli(url, "access", "create", "meters", json.dumps(meter), *where)
    assert json.loads(made.stdout)["period"]["time_zone"] == "Europe/Paris"
    served = acme.get("/v1/access/meters/weekly", params={"site": site})
    assert served.status_code == 200 and served.json()["size"] == 3
    refused = cli(
        url,
        "access",
        "create",
        "bundles",
        '{"id": "b", "name": "B", "meters": ["monthly"]}',
        *where,
        check=False,
    )
    assert refused.returncode != 0 and "no meter 'monthly'" in refused.stderr
    assert acme.get("/v1/access/bundles/b", params={"site": site}).status_code == 404
    user = unique("u")
    acme.post(
        "/v1/access/bundles",
        params={"site": site},
        json={"id": "club", "name": "Club", "meters": ["weekly"]},
    )
    granted = json.loads(
        cli(url, "access", "grant", "--user", user, "--bundle", "club", *where).stdout
    )
    listed = json.loads(cli(url, "access", "grants", "--user", user, "--json", *where).stdout)
    assert [g["id"] for g in listed] == [granted["id"]]
    defaults = cli(url, "access", "defaults", "--anonymous", "club", *where)
    assert json.loads(defaults.stdout) == {"anonymous": "club", "registered": None}
    assert acme.get("/v1/access/defaults", params={"site": site}).json()["anonymous"] == "club"
