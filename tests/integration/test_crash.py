"""kill -9 while clients write: every acknowledged session survives the restart."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.server import Server, init_tenant

WRITERS = 6


def write_until_refused(
    base_url: str, key: str, acknowledged: list[str], stop: threading.Event
) -> None:
    with httpx.Client(base_url=base_url, headers={"x-api-key": key}, timeout=5) as client:
        while not stop.is_set():
            try:
                answer = client.post(
                    "/v1/sessions", json={"ip": "81.2.69.142", "user_agent": "crash-test"}
                )
            except httpx.HTTPError:
                return
            if answer.status_code == 201:
                acknowledged.append(answer.json()["id"])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_acknowledged_writes_survive_kill_9(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'crash.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    tenant = f"crash{backend}"
    key = init_tenant(url, tenant, "web")["secret_key"]
    server = Server(url).start(tmp_path)
    acknowledged: list[str] = []
    stop = threading.Event()
    writers = [
        threading.Thread(
            target=write_until_refused, args=(server.base_url, key, acknowledged, stop)
        )
        for _ in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    while len(acknowledged) < 300:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for writer in writers:
        writer.join(timeout=10)
    survivors = Server(url).start(tmp_path)
    try:
        with httpx.Client(base_url=survivors.base_url, headers={"x-api-key": key}) as client:
            lost = [i for i in acknowledged if client.get(f"/v1/sessions/{i}").status_code != 200]
    finally:
        survivors.stop()
    assert len(acknowledged) >= 300
    assert lost == []
