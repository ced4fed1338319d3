"""/openapi.json documents every compatible endpoint with its own security scheme."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Stack
from tests.contract.specs import (
    ISNOTAI_SESSION,
    MOBILENEXT_LIST,
    ZEPHR_SESSION,
    schema_fields,
    verisoul_openapi,
)

ENDPOINTS = {
    "/compat/zephr/v4/sessions/{site}/{sessionId}": ({"zephrHmac"}, "ZephrSession"),
    "/compat/zephr/v3/sessions/{id}": ({"zephrHmac"}, "ZephrSession"),
    "/compat/verisoul/session/{session_id}": ({"verisoulApiKey"}, "VerisoulSession"),
    "/compat/mobilenext/api/v1/sessions": (
        {"mobilenextBearer", "mobilenextApiKey"},
        "MobileNextSessionList",
    ),
    "/compat/mobilenext/api/v1/sessions/{sessionId}": (
        {"mobilenextBearer", "mobilenextApiKey"},
        "MobileNextSession",
    ),
    "/compat/isnotai/v1/sessions/{sessionId}": (
        {"isnotaiBearer", "isnotaiApiKey"},
        "IsnotaiSessionResponse",
    ),
}


@pytest.fixture(scope="module")
def document(stack: Stack) -> dict[str, Any]:
    answer = httpx.get(f"{stack.base_url}/openapi.json", timeout=30)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def component_fields(document: dict[str, Any], name: str, prefix: str = "") -> set[str]:
    """Dotted property paths of a component, following refs and array items."""
    found: set[str] = set()
    schema = resolve(document, {"$ref": f"#/components/schemas/{name}"})
    for field, child in schema.get("properties", {}).items():
        found.add(prefix + field)
        options = child.get("anyOf", [child])
        for option in options:
            target = option.get("items", option)
            if "$ref" in target:
                nested = target["$ref"].rsplit("/", 1)[-1]
                found |= component_fields(document, nested, f"{prefix}{field}.")
    return found


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_endpoint_is_documented_with_its_scheme_and_view(
    document: dict[str, Any], path: str
) -> None:
    schemes, view = ENDPOINTS[path]
    operation = document["paths"][path]["get"]
    assert {name for option in operation["security"] for name in option} == schemes
    for scheme in schemes:
        assert scheme in document["components"]["securitySchemes"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith(f"/{view}")
    errors = [status for status in operation["responses"] if status.startswith("4")]
    assert "401" in errors and "429" in errors


@pytest.mark.parametrize(
    ("view", "schema"),
    [
        ("ZephrSession", ZEPHR_SESSION),
        ("MobileNextSessionList", MOBILENEXT_LIST),
        ("IsnotaiSessionResponse", ISNOTAI_SESSION),
    ],
)
def test_generated_views_have_the_fields_of_the_written_schemas(
    document: dict[str, Any], view: str, schema: dict[str, Any]
) -> None:
    assert component_fields(document, view) == set(schema_fields(schema))


def test_generated_verisoul_view_has_the_fields_of_verisouls_document(
    document: dict[str, Any],
) -> None:
    spec = verisoul_openapi()["components"]["schemas"]["SessionResponse"]
    expected = set()
    for name, child in spec["properties"].items():
        expected.add(name)
        expected |= {f"{name}.{leaf}" for leaf in child.get("properties", {})}
    assert component_fields(document, "VerisoulSession") == expected
