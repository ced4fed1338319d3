"""A real Sessionscope server in a subprocess, for tests over loopback HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent / "sessionscope"
MASTER_KEY = "x2Lh2UQqWm8kZ6l1s0b4o2lA9cY7tVv3nN5pP8rR1eE"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(
    database_url: str, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        check=check,
        env=server_env(database_url, env),
        timeout=60,
    )


def server_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONSCOPE_")}
    env.update(
        {
            "SESSIONSCOPE_DATABASE_URL": database_url,
            "SESSIONSCOPE_MASTER_KEY": MASTER_KEY,
            "SESSIONSCOPE_KEY_CACHE_SECONDS": "0",
        }
    )
    env.update(extra or {})
    return env


def init_tenant(database_url: str, tenant: str, site: str) -> dict[str, Any]:
    done = cli(database_url, "init", "--tenant", tenant, "--site", site, "--json")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@dataclass
class Server:
    database_url: str
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, log_dir: Path) -> Server:
        self.port = free_port()
        self.log_path = log_dir / f"server-{self.port}.log"
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(BIN), "serve", "--port", str(self.port), "--database-url", self.database_url],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(self.database_url, self.env),
            start_new_session=True,
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            try:
                if httpx.get(self.base_url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready: {self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)
