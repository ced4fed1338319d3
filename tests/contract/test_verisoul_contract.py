"""Verisoul answers validated against the OpenAPI document inside its spec page."""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.contract.compat import PROFILES, create_session
from tests.contract.specs import validate, verisoul_openapi, verisoul_schema
from tests.geodata import geoip_env
from tests.server import Server

CONNECTION_TYPES = {"isp", "mobile", "hosting", "education", "government", "private_relay"}
# Verisoul field -> the native document's (part, field) it comes from.
LEAVES = {
    "location": {
        name: ("location", name)
        for name in (
            "continent",
            "country_code",
            "state",
            "city",
            "zip_code",
            "timezone",
            "latitude",
            "longitude",
        )
    },
    "browser": {name: ("browser", name) for name in ("type", "version", "language", "timezone")},
    "device": {
        name: ("device", name)
        for name in ("category", "type", "os", "cpu_cores", "gpu", "screen_height", "screen_width")
    },
    "network": {name: ("network", name) for name in ("service_provider",)},
}
RISK_SIGNALS = (
    "device_risk",
    "proxy",
    "vpn",
    "tor",
    "spoofed_ip",
    "datacenter",
    "recent_fraud_ip",
    "impossible_travel",
    "device_network_mismatch",
    "location_spoofing",
)


def verisoul_get(base_url: str, key: str, session_id: str) -> httpx.Response:
    return httpx.get(
        f"{base_url}/compat/verisoul/session/{session_id}",
        headers={"x-api-key": key},
        timeout=30,
    )


def test_the_spec_example_passes_the_strict_schema() -> None:
    """The loaded document is the one on the page, and strictness does not reject it."""
    operation = verisoul_openapi()["paths"]["/session/{session_id}"]["get"]
    example = operation["responses"]["200"]["content"]["application/json"]["example"]
    validate(example, verisoul_schema("SessionResponse"))
    with pytest.raises(Exception, match="Additional properties"):
        validate({**example, "extra": 1}, verisoul_schema("SessionResponse"))


@pytest.mark.parametrize("profile", list(PROFILES))
def test_answer_matches_the_openapi_document_and_the_native_session(
    stack: Stack, profiles: dict[str, dict[str, Any]], profile: str
) -> None:
    native = profiles[profile]
    answer = verisoul_get(stack.base_url, stack.key(), native["id"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate(body, verisoul_schema("SessionResponse"))
    check_mapping(body, native)


def check_mapping(body: dict[str, Any], native: dict[str, Any]) -> None:
    assert uuid.UUID(body["request_id"])
    assert body["project_id"] == native["site_uuid"]
    assert body["session_id"] == native["id"]
    assert body["start_time"] == native["created_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["start_time"])
    assert body["account_ids"] == native["account_ids"]
    assert body.get("device_id") == native["device_id"]
    where = native["location"]
    assert body.get("true_country_code") == (where["true_country_code"] or where["country_code"])
    for part, leaves in LEAVES.items():
        for field, (source, name) in leaves.items():
            assert body[part].get(field) == native[source][name], f"{part}.{field}"
    memory = native["device"]["memory"]
    assert body["device"].get("memory") == (None if memory is None else math.floor(memory + 0.5))
    kind = native["network"]["connection_type"]
    assert ("connection_type" in body["network"]) == (kind is not None)
    if kind is not None:
        assert body["network"]["connection_type"] in CONNECTION_TYPES
    for counter in body["bot"]:
        assert body["bot"][counter] == native["behaviour"][counter]
    assert len(body["bot"]) == 5
    for name in RISK_SIGNALS:
        signal = native["risk"][name]
        assert body["risk_signals"].get(name) == (signal["flag"] if signal else None)
        if name != "spoofed_ip":
            assert body["risk_signal_scores"].get(name) == (signal["score"] if signal else None)


def test_each_answer_has_its_own_request_id(
    stack: Stack, profiles: dict[str, dict[str, Any]]
) -> None:
    session_id = profiles["desktop"]["id"]
    ids = {verisoul_get(stack.base_url, stack.key(), session_id).json()["request_id"] for _ in "ab"}
    assert len(ids) == 2


@pytest.fixture(scope="module")
def geo_server(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second instance on this stack's store with MaxMind's test databases configured."""
    server = Server(stack.server.database_url, env=geoip_env())
    server.start(tmp_path_factory.mktemp("verisoul-geo"))
    try:
        yield server
    finally:
        server.stop()


def test_a_fully_known_session_shows_every_documented_location_field(
    stack: Stack, geo_server: Server
) -> None:
    with httpx.Client(base_url=geo_server.base_url, headers={"x-api-key": stack.key()}) as client:
        native = create_session(client, PROFILES["desktop"])
    body = verisoul_get(geo_server.base_url, stack.key(), native["id"]).json()
    validate(body, verisoul_schema("SessionResponse"))
    check_mapping(body, native)
    documented = verisoul_schema("SessionResponse")["components"]["schemas"]["SessionResponse"]
    location = set(documented["properties"]["location"]["properties"])
    known = {name for name in location if native["location"][name] is not None}
    assert set(body["location"]) == known
    assert {"continent", "country_code", "city", "timezone", "latitude", "longitude"} <= known
    assert {"connection_type", "ip_address"} <= set(body["network"])
