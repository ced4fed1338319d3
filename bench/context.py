"""What measurements share: parameters, the temp dir, the tenant, the data set, the server.

Everything expensive is made on first use, so `--only` runs pay only for what
they touch: the in-process measurements load no data set and start no server.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.load import Dataset, load_sessions, post_bodies
from bench.procs import (
    Child,
    Processes,
    free_port,
    group_cpu_seconds,
    machine_cpu_seconds,
    wait_http,
)
from bench.registry import Result
from bench.wrk import WrkRun, run_wrk

T = TypeVar("T")
# The warm pass is given the time to read every loaded id at this rate (first reads go
# to SQLite); a server slower than that fails the run rather than go on half warm.
WARM_PASS_MIN_RATE = 10_000
TENANT = "bench"
SITE = "web"


@dataclass(frozen=True)
class Params:
    sessions: int = 100_000
    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 32
    threads: int = 1
    workers: int = 1


@dataclass(frozen=True)
class Keys:
    tenant: str
    site: str
    secret_key: str


@dataclass(frozen=True)
class Load:
    """A measured wrk run, and where the machine's CPU went meanwhile (in cores)."""

    run: WrkRun
    wall_s: float
    server_cores: float  # the server's whole process group
    wrk_cores: float
    other_cores: float  # everything else on the machine: noise, if not near 0

    @property
    def server_cpu_us_per_request(self) -> float:
        return self.server_cores * self.wall_s * 1e6 / max(self.run.requests, 1)

    def details(self, params: Params) -> dict[str, Any]:
        run = self.run
        return {
            "requests": run.requests,
            "duration_s": run.duration_s,
            "ok": run.ok,
            "latency_ms": run.latency_ms,
            "socket_errors": run.socket_errors,
            "connections": params.connections,
            "threads": params.threads,
            "workers": params.workers,
            "server_cores": round(self.server_cores, 3),
            "wrk_cores": round(self.wrk_cores, 3),
            "other_cores": round(self.other_cores, 3),
            "server_cpu_us_per_request": round(self.server_cpu_us_per_request, 2),
        }


class Context:
    def __init__(self, params: Params, workdir: Path, processes: Processes) -> None:
        self.params = params
        self.workdir = workdir
        self.processes = processes
        self.results: dict[str, Result] = {}
        self.database_url = f"sqlite:///{workdir / 'db' / 'sessionscope.db'}"
        self._keys: Keys | None = None
        self._setup_error: Exception | None = None
        self._dataset: Dataset | None = None
        self._server: tuple[Child, str] | None = None
        self._warm_passes: dict[str, WrkRun] = {}

    # shared fixtures -----------------------------------------------------------
    def keys(self) -> Keys:
        """`sessionscope init` a tenant in the run's own database (once)."""
        if self._keys is None:
            self._keys = self._setup(self._init_tenant)
        return self._keys

    def dataset(self) -> Dataset:
        """The loaded sessions (once); their ids are in `ids_path`."""
        if self._dataset is None:
            keys = self.keys()
            self._dataset = self._setup(
                lambda: asyncio.run(
                    load_sessions(self.database_url, keys.tenant, keys.site, self.params.sessions)
                )
            )
            self.ids_path.write_text("\n".join(self._dataset.ids) + "\n")
        return self._dataset

    def _setup(self, make: Callable[[], T]) -> T:
        """Shared set-up that failed once is not tried again by the next measurement."""
        if self._setup_error is not None:
            raise RuntimeError(f"set-up failed earlier: {self._setup_error}")
        try:
            return make()
        except Exception as error:
            self._setup_error = error
            raise

    def _init_tenant(self) -> Keys:
        argv = [
            sessionscope_bin(),
            "init",
            "--tenant",
            TENANT,
            "--site",
            SITE,
            "--json",
            "--database-url",
            self.database_url,
        ]
        output = self.processes.run("sessionscope init", argv, self.workdir / "init.out", 60)
        made = json.loads(output.strip().splitlines()[-1])
        return Keys(made["tenant"], made["site"], made["secret_key"])

    @property
    def loaded(self) -> Dataset | None:
        """The data set if a measurement has loaded it, else None."""
        return self._dataset

    @property
    def ids_path(self) -> Path:
        return self.workdir / "ids.txt"

    def bodies_path(self) -> Path:
        path = self.workdir / "post-bodies.jsonl"
        if not path.exists():
            path.write_bytes(b"\n".join(post_bodies(512)) + b"\n")
        return path

    def server(self) -> tuple[Child, str]:
        """`sessionscope serve` on a free loopback port (once): the process, its base URL."""
        if self._server is None:
            self._server = self.start_server("sessionscope serve", self.params.workers)
        return self._server

    def start_server(
        self, label: str, workers: int, env: dict[str, str] | None = None
    ) -> tuple[Child, str]:
        """Another `sessionscope serve` on the run's database; the caller stops it."""
        self.dataset()
        port = free_port()
        argv = [
            sessionscope_bin(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--database-url",
            self.database_url,
        ]
        log_name = label.replace(" ", "-").replace("(", "").replace(")", "") + ".out"
        child = self.processes.start(label, argv, self.workdir / log_name, env)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", child, timeout=60)
        return child, base

    # load ----------------------------------------------------------------------
    def wrk(
        self,
        name: str,
        url: str,
        script: str,
        script_args: list[str] | Callable[[str, float], list[str]],
        server: Child,
    ) -> Load:
        """A warm-up run, then the measured run; both must see only expected statuses.

        `script_args` may be a function of the run's label and seconds, called before
        each run, for a script that needs something fresh per run (signed requests).

        Around the measured run, the CPU time of `server`'s process group, of wrk and
        of the whole machine are taken, so that each figure says what it cost and
        whether anything else was competing for the CPUs.
        """
        p = self.params

        def once(label: str, seconds: float) -> WrkRun:
            run = run_wrk(
                self.processes,
                url=url,
                script=script,
                script_args=script_args(label, seconds) if callable(script_args) else script_args,
                duration_s=seconds,
                connections=p.connections,
                threads=p.threads,
                log_path=self.workdir / f"wrk-{label}.out",
            )
            run.check()
            return run

        if p.warmup > 0:
            once(f"{name}-warmup", p.warmup)
        server_before = group_cpu_seconds(server.pid)
        machine_before = machine_cpu_seconds()
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        run = once(name, p.duration)
        wall = time.perf_counter() - started
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = group_cpu_seconds(server.pid) - server_before
        machine_cpu = machine_cpu_seconds() - machine_before
        wrk_cpu = (children_after.ru_utime - children_before.ru_utime) + (
            children_after.ru_stime - children_before.ru_stime
        )
        return Load(
            run=run,
            wall_s=wall,
            server_cores=server_cpu / wall,
            wrk_cores=wrk_cpu / wall,
            other_cores=max(0.0, machine_cpu - server_cpu - wrk_cpu) / wall,
        )

    def warm_pass(self, base: str) -> WrkRun:
        """The warm pass of the server at `base` (once per server): every loaded session read
        once (one wrk thread, so in order), then again while time is left. Fails unless every
        id was read."""
        found = self._warm_passes.get(base)
        if found is None:
            found = self._warm_passes[base] = self._read_every_session(base)
        return found

    def _read_every_session(self, base: str) -> WrkRun:
        count = len(self.ids_path.read_text().split())
        run = run_wrk(
            self.processes,
            url=base,
            script="read_each.lua",
            script_args=[str(self.ids_path), self.keys().secret_key],
            duration_s=max(2.0, count / WARM_PASS_MIN_RATE),
            connections=self.params.connections,
            threads=1,
            log_path=self.workdir / f"wrk-warm-pass-{base.rsplit(':', 1)[-1]}.out",
        )
        run.check()
        if run.ok < count:
            raise RuntimeError(
                f"the warm pass read {run.ok:,} of {count:,} sessions: the server answered"
                f" under {WARM_PASS_MIN_RATE:,} reads a second"
            )
        return run

    def reference(self, name: str) -> Result:
        """An earlier result this measurement compares against."""
        found = self.results.get(name)
        if found is None:
            raise RuntimeError(f"reference {name!r} has no result in this run")
        return found


def venv_command(name: str) -> str:
    """A console script installed beside the interpreter running the benchmark."""
    beside = Path(sys.executable).parent / name
    if beside.exists() and os.access(beside, os.X_OK):
        return str(beside)
    raise FileNotFoundError(f"no {name} command beside {sys.executable} (make install)")


def sessionscope_bin() -> str:
    return venv_command("sessionscope")
