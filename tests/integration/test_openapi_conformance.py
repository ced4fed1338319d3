"""Schemathesis against the served /openapi.json: requests generated for every operation must
get an answer the document describes (status, content type, headers, body schema), never a 5xx.

Schemathesis's check that every schema-valid request is accepted is left out: the document cannot
say "an IP address" or "a known site", and those 400s, which name the field, are intended."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Stack

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12


def test_every_answer_is_documented(stack: Stack) -> None:
    document = httpx.get(f"{stack.base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    headers = {"x-api-key": stack.key()}

    @given(case=st.one_of(*(operation.as_strategy() for operation in operations)))
    @settings(
        max_examples=len(operations) * EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_are_documented(case: Case) -> None:
        case.call_and_validate(base_url=stack.base_url, headers=headers, checks=CHECKS)

    answers_are_documented()
