"""Processes the runner starts, and how it stops them.

Each child runs in its own process group (its group id is its pid): stopping it
signals that group only, which reaches the workers a server forks and nothing else.
Children stay in the runner's session: a session of their own would also put each in
a scheduler autogroup of its own (Linux, `kernel.sched_autogroup_enabled`), and the
kernel would then share the CPUs between wrk and a server as between two users, which
is not how clients and servers meet and which cost our multi-threaded server about 15%
of its GETs a second here (bench/README.md). `Processes` remembers every child and stops
them all, newest first, when its `with` block ends, error or Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

# Loopback only: never route benchmark traffic through a proxy from the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ProcessFailed(RuntimeError):
    """A child exited early, did not become ready, or did not finish in time."""


class Child:
    """One started process, its output going to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("wb")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                process_group=0,
            )
        except BaseException:
            self._log.close()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait(self, timeout: float) -> int:
        """Wait for a natural exit; ProcessFailed (after stopping it) when it overruns."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise ProcessFailed(f"{self.name} did not finish within {timeout:.0f} s") from None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the child's group, SIGKILL it after `grace` seconds; idempotent."""
        if self.proc.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(5)
            # Workers that outlived their parent are still in the group: end them too.
            self._signal(signal.SIGKILL)
        if not self._log.closed:
            self._log.close()

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


class Processes:
    """Every child the runner started; `with Processes() as procs:` stops them at the end."""

    def __init__(self) -> None:
        self._children: list[Child] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
    ) -> Child:
        child = Child(name, argv, log_path, env)
        self._children.append(child)
        return child

    def run(self, name: str, argv: Sequence[str], log_path: Path, timeout: float) -> str:
        """Run a child to completion and return its output; ProcessFailed on non-zero exit."""
        child = self.start(name, argv, log_path)
        try:
            code = child.wait(timeout)
        finally:
            child.stop()
            self._children.remove(child)
        if code != 0:
            raise ProcessFailed(f"{name} exited with status {code}:\n{child.tail()}")
        return child.output()

    def stop(self, child: Child) -> None:
        child.stop()
        if child in self._children:
            self._children.remove(child)

    def stop_all(self) -> None:
        while self._children:
            self._children.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group `pgid`."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces: fields are counted after its closing ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def machine_cpu_seconds() -> float:
    """CPU seconds every CPU of the machine has spent busy (not idle, not iowait) since boot."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    # guest time is already counted in user time
    return (sum(values[:8]) - idle) / _TICKS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_get(url: str, timeout: float = 5.0, headers: Mapping[str, str] | None = None) -> bytes:
    request = urllib.request.Request(url, headers=dict(headers or {}))
    with _DIRECT.open(request, timeout=timeout) as response:
        body: bytes = response.read()
        return body


def wait_http(url: str, child: Child, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 2xx; ProcessFailed when `child` dies or time runs out."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        if not child.alive():
            raise ProcessFailed(
                f"{child.name} exited with status {child.proc.returncode}:\n{child.tail()}"
            )
        try:
            http_get(url, timeout=1.0)
            return
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.1)
    raise ProcessFailed(
        f"{child.name} did not answer {url} within {timeout:.0f} s ({last_error}):\n{child.tail()}"
    )
