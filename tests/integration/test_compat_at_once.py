"""The GETs of Verisoul, Mobile Next and isnotai answered from the process's caches
(`read_at_once`, dialects/shared.py) keep every rule of the whole way. As in
test_read_at_once.py, the server keeps keys for a minute and reads are repeated: a key's
first read goes the whole way (its key is not cached yet) and the reads after it come from
the caches, so each answer after the first must equal the first. On PostgreSQL no session
is kept, and the same answers must come the whole way."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sessionscope.dialects import isnotai, mobilenext, verisoul
from sessionscope.http.errors import ApiError
from tests.conftest import Stack
from tests.contract.compat import PROFILES, create_session, new_key
from tests.integration.conftest import RATE_LIMIT

READS = 3

Answer = tuple[int, dict[str, Any]]  # status, JSON body


@dataclass(frozen=True)
class Dialect:
    name: str
    template: str  # the session GET, `{id}` for the session id
    bearer: bool  # sends the key as `Authorization: Bearer` (else `x-api-key`)
    not_found: Answer
    other_site: Answer  # a site-bound key reading a session of another site of its tenant
    without_read_scope: int
    envelope: Callable[[ApiError], bytes]

    def headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if self.bearer else {"x-api-key": key}


VERISOUL_NOT_FOUND = (400, {"statusCode": 400, "message": "Session ID not found"})
VERISOUL = Dialect(
    "verisoul",
    "/compat/verisoul/session/{id}",
    bearer=False,
    not_found=VERISOUL_NOT_FOUND,
    other_site=VERISOUL_NOT_FOUND,
    without_read_scope=401,
    envelope=verisoul.envelope,
)
MOBILENEXT_NOT_FOUND = (
    404,
    {"error": {"code": "session_not_found", "message": "no such session in this organization"}},
)
MOBILENEXT = Dialect(
    "mobilenext",
    "/compat/mobilenext/api/v1/sessions/{id}",
    bearer=True,
    not_found=MOBILENEXT_NOT_FOUND,
    other_site=MOBILENEXT_NOT_FOUND,
    without_read_scope=403,
    envelope=mobilenext.envelope,
)
ISNOTAI = Dialect(
    "isnotai",
    "/compat/isnotai/v1/sessions/{id}",
    bearer=True,
    not_found=(
        404,
        {"error": {"code": "SESSION_NOT_FOUND", "message": "no such session", "details": {}}},
    ),
    other_site=(
        403,
        {
            "error": {
                "code": "FORBIDDEN",
                "message": "the session belongs to another integration (site)",
                "details": {},
            }
        },
    ),
    without_read_scope=403,
    envelope=isnotai.envelope,
)


@pytest.fixture(params=[VERISOUL, MOBILENEXT, ISNOTAI], ids=lambda dialect: dialect.name)
def dialect(request: pytest.FixtureRequest) -> Dialect:
    chosen: Dialect = request.param
    return chosen


@pytest.fixture(scope="module")
def stack(keys_kept_stack: Stack) -> Stack:
    return keys_kept_stack


def new_session(stack: Stack) -> str:
    with stack.client(stack.key()) as acme:
        session_id: str = create_session(acme, PROFILES["desktop"])["id"]
    return session_id


def reader(stack: Stack, **fields: Any) -> str:
    """A new secret key of acme, never presented yet: its first read goes the whole way."""
    key: str = new_key(stack, **{"kind": "secret", "scopes": ["read"], **fields})["key"]
    return key


def responses(
    stack: Stack, dialect: Dialect, key: str, session_id: str, count: int, **headers: str
) -> list[httpx.Response]:
    path = dialect.template.format(id=session_id)
    with stack.client() as client:
        return [client.get(path, headers={**dialect.headers(key), **headers}) for _ in range(count)]


def answers(
    stack: Stack, dialect: Dialect, key: str, session_id: str, count: int = READS, **headers: str
) -> list[Answer]:
    """Status and body of `count` reads in a row, but Verisoul's `request_id` (fresh in each)."""
    found = responses(stack, dialect, key, session_id, count, **headers)
    return [(answer.status_code, without_request_id(answer.json())) for answer in found]


def without_request_id(doc: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in doc.items() if name != "request_id"}


def statuses(answered: list[Answer]) -> list[int]:
    return [status for status, _ in answered]


def test_cached_reads_answer_as_the_whole_way_and_keep_its_rules(
    stack: Stack, dialect: Dialect
) -> None:
    session_id = new_session(stack)
    first, *later = answers(stack, dialect, reader(stack), session_id)
    assert first[0] == 200 and first[1]
    assert later == [first] * (READS - 1)
    assert answers(stack, dialect, reader(stack, site="web"), session_id) == [first] * READS
    assert answers(stack, dialect, stack.key("globex"), session_id) == [dialect.not_found] * READS
    other_site = reader(stack, site="shop")
    assert answers(stack, dialect, other_site, session_id) == [dialect.other_site] * READS
    writer = reader(stack, scopes=["write"])
    refused = [dialect.without_read_scope] * READS
    assert statuses(answers(stack, dialect, writer, session_id)) == refused
    publishable = new_key(stack, kind="publishable", site="web")["key"]
    assert statuses(answers(stack, dialect, publishable, session_id)) == [401] * READS


def test_mobilenext_with_an_organization_goes_the_whole_way_to_the_same_answers(
    stack: Stack,
) -> None:
    session_id = new_session(stack)
    key = reader(stack)
    cached = answers(stack, MOBILENEXT, key, session_id)
    assert answers(stack, MOBILENEXT, key, session_id, **{"x-organization-id": "web"}) == cached
    elsewhere = answers(stack, MOBILENEXT, key, session_id, **{"x-organization-id": "shop"})
    assert elsewhere == [MOBILENEXT.not_found] * READS


def test_a_revoked_key_and_a_changed_session_are_seen_by_the_next_read(
    stack: Stack, dialect: Dialect
) -> None:
    session_id = new_session(stack)
    made = new_key(stack, kind="secret", scopes=["read"])
    before = answers(stack, dialect, made["key"], session_id)
    assert statuses(before) == [200] * READS
    with stack.client(stack.key()) as acme:
        change = {"user": {"id": "u7"}, "account_ids": ["acct-7"]}
        assert acme.patch(f"/v1/sessions/{session_id}", json=change).status_code == 200
        changed = answers(stack, dialect, made["key"], session_id, count=1)
        assert changed == answers(stack, dialect, reader(stack), session_id, count=1)
        assert changed != before[:1]
        assert acme.delete(f"/v1/keys/{made['id']}").status_code == 204
    assert statuses(answers(stack, dialect, made["key"], session_id)) == [401] * READS


def test_the_rate_limit_counts_every_read_once(limited_stack: Stack, dialect: Dialect) -> None:
    """Answered from the caches or the whole way, found or refused, each read counts once:
    exactly the read after the limit is refused, with Retry-After, in the dialect's envelope."""
    stack = limited_stack
    session_id = new_session(stack)
    refused = ApiError(429, "rate_limited", f"over {RATE_LIMIT} requests a minute for this key")
    for status, key in [(200, reader(stack)), (dialect.other_site[0], reader(stack, site="shop"))]:
        *within, over = responses(stack, dialect, key, session_id, RATE_LIMIT + 1)
        assert [answer.status_code for answer in within] == [status] * RATE_LIMIT
        assert over.status_code == 429
        assert 1 <= int(over.headers["retry-after"]) <= 60
        assert over.json() == json.loads(dialect.envelope(refused))
