"""Running wrk with one of our Lua scripts, and reading what it prints.

Throughput and latency come from wrk's own report (`--latency`); whether every
answer had the expected status comes from the `BENCH-STATUS` line the Lua
scripts print in `done` (bench/lua/common.lua).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import Processes

LUA_DIR = Path(__file__).resolve().parent / "lua"

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h),", re.M)
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.M)
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_STATUS = re.compile(r"^BENCH-STATUS (.*)$", re.M)
_SAMPLE = re.compile(r"^BENCH-SAMPLE (.*)$", re.M)


class WrkError(RuntimeError):
    """wrk failed, printed something we cannot read, or saw answers we did not expect."""


@dataclass(frozen=True)
class WrkRun:
    requests: int
    duration_s: float
    rps: float
    latency_ms: dict[str, float]
    expected_status: int
    ok: int
    bad: int
    bad_statuses: dict[str, int]
    socket_errors: dict[str, int]
    sample_bad_body: str | None = None
    output: str = field(default="", repr=False)

    @property
    def p50_ms(self) -> float:
        return self.latency_ms["50"]

    @property
    def p99_ms(self) -> float:
        return self.latency_ms["99"]

    @property
    def ok_per_s(self) -> float:
        """Answers with the expected status per second of the run."""
        return self.ok / self.duration_s if self.duration_s else 0.0

    def check(self) -> None:
        """WrkError unless every answer had the expected status."""
        if self.bad or self.ok == 0:
            sample = f"; first such body: {self.sample_bad_body}" if self.sample_bad_body else ""
            raise WrkError(
                f"{self.bad} of {self.ok + self.bad} answers were not {self.expected_status}"
                f" (by status: {self.bad_statuses or 'none'}){sample}"
            )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise WrkError("wrk is not installed (run: bash scripts/bench-deps.sh)")
    return found


def wrk_version() -> str:
    # `wrk -v` prints its banner and usage, then exits non-zero.
    result = subprocess.run(
        [wrk_binary(), "-v"], capture_output=True, text=True, check=False, timeout=10
    )
    first = (result.stdout or result.stderr).splitlines()
    return first[0].strip() if first else "unknown"


def run_wrk(
    processes: Processes,
    *,
    url: str,
    script: str,
    script_args: Sequence[str],
    duration_s: float,
    connections: int,
    threads: int,
    log_path: Path,
) -> WrkRun:
    """One bounded wrk run against `url` with bench/lua/`script`."""
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"refusing to send load anywhere but loopback: {url}")
    argv = [
        wrk_binary(),
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(1, round(duration_s))}s",
        "--timeout=10s",
        "--latency",
        f"--script={LUA_DIR / script}",
        url,
        "--",
        *script_args,
    ]
    output = processes.run("wrk", argv, log_path, timeout=duration_s + 60)
    return parse(output)


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse(output: str) -> WrkRun:
    rps = _RPS.search(output)
    total = _TOTAL.search(output)
    status = _STATUS.search(output)
    if rps is None or total is None or status is None:
        raise WrkError(f"cannot read wrk's report:\n{output[-2000:]}")
    latency = {m.group(1): _ms(m.group(2), m.group(3)) for m in _PERCENTILE.finditer(output)}
    if not {"50", "99"} <= latency.keys():
        raise WrkError(f"wrk printed no latency distribution:\n{output[-2000:]}")
    fields = dict(part.split("=", 1) for part in status.group(1).split())
    bad_statuses = {
        code: int(count)
        for code, _, count in (pair.partition(":") for pair in fields["codes"].split(","))
        if code
    }
    socket = _SOCKET.search(output)
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, socket.groups()), strict=True))
        if socket
        else {}
    )
    non_2xx = _NON_2XX.search(output)
    if non_2xx:
        socket_errors["non_2xx_or_3xx"] = int(non_2xx.group(1))
    sample = _SAMPLE.search(output)
    return WrkRun(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2), total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        latency_ms=latency,
        expected_status=int(fields["expected"]),
        ok=int(fields["ok"]),
        bad=int(fields["bad"]),
        bad_statuses=bad_statuses,
        socket_errors=socket_errors,
        sample_bad_body=sample.group(1) if sample else None,
        output=output,
    )
