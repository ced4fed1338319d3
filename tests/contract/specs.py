"""JSON Schemas of the compatible APIs, written from the vendors' pages in ../shared/specs.

Verisoul's page embeds its OpenAPI document: that one is loaded as it is (pyyaml) and
only made strict (no undocumented fields). The others are written here from their pages,
and `documented_fields` reads each page so that a test can prove nothing was left out.
"""

from __future__ import annotations

import copy
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

SPECS_DIR = Path(
    os.environ.get("SESSIONSCOPE_SPECS_DIR")
    or Path(__file__).resolve().parents[2].parent / "shared" / "specs"
)
ZEPHR_V4 = "000_f645fed8a2c0f782.txt"
ZEPHR_V3 = "001_8c14cc65ca34bc64.txt"
VERISOUL = "002_4b1831876b5d98a8.txt"
MOBILENEXT = "003_a5312d4425ee6d37.txt"
ISNOTAI = "004_e1af088ffabfa16a.txt"

STATES = ["anonymous", "recognised", "partially_registered", "authenticated"]
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
ZEPHR_DATE = r"^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d (AM|PM) UTC$"


def spec_text(name: str) -> str:
    path = SPECS_DIR / name
    if not path.exists():
        pytest.fail(f"spec {path} not found (set SESSIONSCOPE_SPECS_DIR)")
    return path.read_text()


def _text(pattern: str | None = None) -> dict[str, Any]:
    return {"type": "string", **({"pattern": pattern} if pattern else {})}


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy in which every object with listed properties allows no other property."""
    result = copy.deepcopy(schema)
    stack = [result]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return result


# ---- Zephr (v3 and v4 share the response) ----------------------------------------------

_ZEPHR_ENTRY = {
    "type": "object",
    "required": ["supplied", "startDate", "state", "session_id"],
    "properties": {
        "supplied": {"type": "boolean"},
        "expiryDate": _text(ZEPHR_DATE),
        "startDate": _text(ZEPHR_DATE),
        "state": {"type": "string", "enum": STATES},
        "device": _text(),
        "browser": _text(),
        "os": _text(),
        "city": _text(),
        "geoState": _text(),
        "deviceName": _text(),
        "country": _text(r"^[A-Z]{2}$"),
        "session_id": _text(UUID),
    },
}
_ZEPHR_ENTITLEMENT = {
    "type": "object",
    "required": ["id", "direct", "meteredBy", "creditedBy"],
    "properties": {
        "id": _text(),
        "direct": {"type": "boolean"},
        "meteredBy": {"type": "array", "items": _text()},
        "creditedBy": {"type": "array", "items": _text()},
    },
}
ZEPHR_SESSION = strict(
    {
        "type": "object",
        "required": [
            "tenantId",
            "subTenantId",
            "authenticated",
            "v",
            "session_variables",
            "sessions",
            "access_model",
            "last_updated",
            "test_groups",
            "second_party_data",
        ],
        "properties": {
            "tenantId": _text(),
            "subTenantId": _text(r"^[^|]+\|[^|]+$"),
            "authenticated": {"type": "boolean"},
            "v": {"type": "integer", "minimum": 1},
            "session_variables": {"type": "object"},
            "user_id": _text(),
            "sessions": {"type": "array", "minItems": 1, "items": _ZEPHR_ENTRY},
            "access_model": {
                "type": "object",
                "required": [
                    "meters",
                    "credits",
                    "delivered_entitlements",
                    "granted_bundles",
                    "jwt_bundles",
                ],
                "properties": {
                    "meters": {"type": "object"},
                    "credits": {"type": "object"},
                    "delivered_entitlements": {"type": "array", "items": _ZEPHR_ENTITLEMENT},
                    "granted_bundles": {"type": "array", "items": _text()},
                    "jwt_bundles": {"type": "array", "items": _text()},
                    "user_state": _text(),
                },
            },
            "last_updated": {"type": "integer"},
            "test_groups": {"type": "object"},
            "second_party_data": {"type": "object"},
        },
    }
)
# Zephr's error bodies are not documented; ours carry one message.
ZEPHR_ERROR = strict(
    {"type": "object", "required": ["message"], "properties": {"message": _text()}}
)

# ---- Mobile Next -----------------------------------------------------------------------

_MOBILENEXT_SESSION = {
    "type": "object",
    "required": ["id", "organization", "user", "device", "createdAt"],
    "properties": {
        "id": _text(UUID),
        "organization": _text(),
        "user": _text(UUID),
        "device": {
            "type": "object",
            "required": ["id", "platform", "type", "name", "osVersion"],
            "properties": {
                "id": _text(),
                "platform": _text(),
                "type": {"type": "string", "enum": ["real", "emulator"]},
                "name": _text(),
                "osVersion": _text(),
            },
        },
        "createdAt": _text(RFC3339),
        "releasedAt": {"anyOf": [_text(RFC3339), {"type": "null"}]},
    },
}
MOBILENEXT_SESSION = strict(_MOBILENEXT_SESSION)
MOBILENEXT_LIST = strict(
    {
        "type": "object",
        "required": ["object", "data"],
        "properties": {
            "object": _text(),
            "data": {"type": "array", "items": _MOBILENEXT_SESSION},
            "nextCursor": {"anyOf": [_text(RFC3339), {"type": "null"}]},
        },
    }
)
MOBILENEXT_ERROR = strict(
    {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": _text(), "message": _text()},
            }
        },
    }
)

# ---- isnotai ---------------------------------------------------------------------------

ISNOTAI_SESSION = strict(
    {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["id", "createdAt", "updatedAt", "status", "detectionFlags"],
                "properties": {
                    "id": _text(),
                    "createdAt": _text(RFC3339),
                    "updatedAt": _text(RFC3339),
                    "status": {"type": "string", "enum": ["active", "closed"]},
                    "botScore": {"type": "number", "minimum": 0, "maximum": 1},
                    "detectionFlags": {"type": "array", "items": _text()},
                    "pageUrl": _text(),
                    "userAgentSummary": _text(),
                    "userId": _text(),
                    "userName": _text(),
                    "userUrl": _text(),
                },
            }
        },
    }
)
ISNOTAI_ERROR = strict(
    {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": _text(r"^[A-Z][A-Z_]*$"),
                    "message": _text(),
                    "details": {"type": "object"},
                },
            }
        },
    }
)

# ---- Verisoul: its own OpenAPI document --------------------------------------------------


def verisoul_openapi() -> dict[str, Any]:
    text = spec_text(VERISOUL)
    body = text.split("````yaml", 1)[1].split("\n", 1)[1].split("````", 1)[0]
    document: dict[str, Any] = yaml.safe_load(body)
    return document


def verisoul_schema(name: str) -> dict[str, Any]:
    """`components.schemas[name]` as a strict JSON Schema that resolves its own refs."""
    components = verisoul_openapi()["components"]
    return strict(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$ref": f"#/components/schemas/{name}",
            "components": components,
        }
    )


# ---- validation --------------------------------------------------------------------------

_format_checker = jsonschema.FormatChecker()


@_format_checker.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str) or not re.match(RFC3339, value):
        return False
    datetime.fromisoformat(value[:19])
    return True


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """jsonschema validation with date-time checked (jsonschema lacks that checker here)."""
    validator_class = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
    validator_class(schema, format_checker=_format_checker).validate(instance)


def schema_fields(schema: dict[str, Any]) -> dict[str, str]:
    """Every property of a schema as a dotted path -> its JSON type ("" when mixed)."""
    found: dict[str, str] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for name, child in node.get("properties", {}).items():
            path = f"{prefix}{name}"
            found[path] = child.get("type", "")
            if child.get("type") == "object":
                walk(child, f"{path}.")
            elif child.get("type") == "array" and isinstance(child.get("items"), dict):
                walk(child["items"], f"{path}.")

    walk(schema, "")
    return found


def zephr_documented_fields(name: str) -> dict[str, str]:
    """`- \\`sessions.state\\` (string)` entries of a Zephr page: dotted path -> type."""
    return dict(re.findall(r"- `([\w.]+)` \((\w+)\)", spec_text(name)))


def _json_type(kind: str) -> str:
    base = re.split(r"[(\[ ]", kind, maxsplit=1)[0]
    return {"double": "number", "float": "number"}.get(base, base)


def isnotai_documented_fields() -> dict[str, str]:
    """The page's `data` attributes: name line, then type line (`string(date-time)` ...)."""
    block = spec_text(ISNOTAI).split("Hide data attributes", 1)[1].split("401 application", 1)[0]
    lines = [line.strip() for line in block.splitlines() if line.strip()]
    return {
        f"data.{name}": _json_type(kind) for name, kind in zip(lines[::2], lines[1::2], strict=True)
    }


_MOBILENEXT_FIELD = re.compile(
    r"^([a-z][A-Za-z]*?)(string|integer|number|boolean|object|array)"
    r"(?: · [\w-]+?)?(required|nullable)?$"
)


def mobilenext_documented_fields() -> dict[str, tuple[str, str]]:
    """Fields of the pages' "Returns" sections: name -> (type, required | nullable | "")."""
    sections = spec_text(MOBILENEXT).split("\nReturns\n")[1:]
    found: dict[str, tuple[str, str]] = {}
    for section in sections:
        for line in section.split("Get a session", 1)[0].splitlines():
            match = _MOBILENEXT_FIELD.match(line.strip())
            if match:
                found[match.group(1)] = (match.group(2), match.group(3) or "")
    return found
