"""GET /v1/sessions/{id} answered from the process's caches (`read_session_at_once`) keeps
every rule of the whole way: reads are repeated so that the key and the session are cached
before the read that matters. The server keeps keys for a minute (the shared test server
keeps none, which would never take this path); on PostgreSQL no session is kept, and the
same answers must come the whole way. The `acme` and `globex` clients of conftest.py use
this module's `stack`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import KEYS_KEPT_A_MINUTE, Stack, served_stack

BODY = {"ip": "81.2.69.160", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
READS = 3


@pytest.fixture
def stack(fresh_database_url: str, tmp_path: Path) -> Iterator[Stack]:
    with served_stack(fresh_database_url, tmp_path, KEYS_KEPT_A_MINUTE) as stack:
        yield stack


def statuses(client: httpx.Client, session_id: str) -> list[int]:
    return [client.get(f"/v1/sessions/{session_id}").status_code for _ in range(READS)]


def new_key(acme: httpx.Client, **fields: object) -> str:
    made = acme.post("/v1/keys", json={"kind": "secret", **fields})
    assert made.status_code == 201, made.text
    key: str = made.json()["key"]
    return key


def test_cached_reads_keep_scope_site_and_tenant_rules(
    stack: Stack, acme: httpx.Client, globex: httpx.Client
) -> None:
    created = acme.post("/v1/sessions", json={**BODY, "site": "web"})
    assert created.status_code == 201
    session_id = created.json()["id"]
    for _ in range(READS):
        read = acme.get(f"/v1/sessions/{session_id}")
        assert read.status_code == 200
        assert read.json() == created.json()
    assert statuses(globex, session_id) == [404] * READS
    with stack.client(new_key(acme, site="shop", scopes=["read"])) as other_site:
        assert statuses(other_site, session_id) == [404] * READS
    with stack.client(new_key(acme, site="web", scopes=["read"])) as same_site:
        assert statuses(same_site, session_id) == [200] * READS
    with stack.client(new_key(acme, scopes=["write"])) as writer:
        assert statuses(writer, session_id) == [403] * READS
    publishable = acme.post("/v1/keys", json={"kind": "publishable", "site": "web"}).json()
    with stack.client(publishable["key"]) as browser:
        assert statuses(browser, session_id) == [401] * READS
    assert statuses(acme, session_id.upper()) == [200] * READS
    assert statuses(acme, session_id[:-1]) == [400] * READS


def test_a_revoked_key_and_a_changed_session_are_seen_by_the_next_read(
    stack: Stack, acme: httpx.Client
) -> None:
    session_id = acme.post("/v1/sessions", json=BODY).json()["id"]
    made = acme.post("/v1/keys", json={"kind": "secret", "scopes": ["read"]}).json()
    with stack.client(made["key"]) as reader:
        assert statuses(reader, session_id) == [200] * READS
        patched = acme.patch(f"/v1/sessions/{session_id}", json={"user": {"id": "u7"}})
        assert patched.status_code == 200, patched.text
        assert reader.get(f"/v1/sessions/{session_id}").json()["user"]["id"] == "u7"
        assert acme.delete(f"/v1/keys/{made['id']}").status_code == 204
        assert statuses(reader, session_id) == [401] * READS
