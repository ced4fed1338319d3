"""The benchmark runner: `python -m bench.run [--sessions N] [--duration S] [--only NAME]`.

Runs the registered measurements (bench/registry.py) in order, prints a table and
writes bench/results/latest.json. Exit status 0 unless a measurement itself
failed (an unexpected HTTP status, a process that would not start, ...); a
missed target is information, not failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

# Importing the measurement modules registers them, in this order.
import bench.compat_bench
import bench.enrich_bench
import bench.http_bench
import bench.inproc  # noqa: F401
from bench.context import Context, Params
from bench.nginx import nginx_version
from bench.procs import Processes
from bench.registry import MEASUREMENTS, Result, select
from bench.wrk import wrk_version

RESULTS_DIR = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent


class Interrupted(BaseException):  # like KeyboardInterrupt: not caught as a failure
    """SIGTERM or SIGHUP: stop like Ctrl-C, cleaning up on the way out."""


def parse_args(argv: list[str] | None) -> tuple[Params, argparse.Namespace]:
    defaults = Params()
    names = ", ".join(m.name for m in MEASUREMENTS)
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--sessions",
        type=int,
        default=defaults.sessions,
        help="sessions loaded before the HTTP runs (default %(default)s)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds per measured wrk run (default %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=defaults.warmup,
        help="seconds of wrk warm-up before each run, 0 for none (default %(default)s)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        default=defaults.connections,
        help="wrk connections (default %(default)s)",
    )
    parser.add_argument(
        "--threads", type=int, default=defaults.threads, help="wrk threads (default %(default)s)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help="server worker processes, nginx and ours (default %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these (repeat or comma-separate; known: {names});"
        + " their references run too",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR / "latest.json",
        help="results file (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (database, logs)"
    )
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.duration < 1 or args.connections < 1:
        parser.error("--sessions, --duration and --connections must be at least 1")
    if args.threads < 1 or args.workers < 1 or args.threads > args.connections:
        parser.error("--threads and --workers must be at least 1, threads <= connections")
    params = Params(
        sessions=args.sessions,
        duration=args.duration,
        warmup=max(0.0, args.warmup),
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
    )
    return params, args


def machine() -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_kb = None
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
                break
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_mb": memory_kb // 1024 if memory_kb else None,
        "kernel": platform.release(),
        "machine": platform.machine(),
        "hostname": platform.node(),
    }


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git(*args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    result = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False, timeout=10
    )
    return result.stdout.strip() if result.returncode == 0 else None


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{
            name: _package_version(name)
            for name in ("sessionscope", "granian", "msgspec", "starlette", "ua-parser")
        },
    }
    for name, probe in (("nginx", nginx_version), ("wrk", wrk_version)):
        try:
            found[name] = probe()
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            found[name] = f"unavailable: {error}"
    commit = _git("rev-parse", "HEAD")
    if commit is not None:
        found["git_commit"] = commit
        found["git_dirty"] = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return found


# output ----------------------------------------------------------------------------
def _number(value: float, unit: str) -> str:
    if unit == "ns/call":
        return f"{value / 1000:,.2f} us" if value >= 10_000 else f"{value:,.0f} ns"
    return f"{value:,.0f}"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _cpu(value: object) -> str:
    return f"{value:,.1f}" if isinstance(value, float | int) else ""


def noise(results: list[Result]) -> list[str]:
    """Warnings for runs during which something else kept the CPUs busy."""
    lines = []
    for r in results:
        other = r.details.get("other_cores")
        if isinstance(other, float | int) and other >= 0.1:
            lines.append(
                f"warning: {r.name}: other processes used {other:.2f} CPU cores meanwhile;"
                " its figures understate what this machine can do"
            )
    return lines


def _gist(error: str, width: int = 110) -> str:
    """First line of an error, and its last line when that names the cause."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    text = lines[0] if len(lines) < 2 else f"{lines[0]} ... {lines[-1]}"
    return text if len(text) <= width else text[: width - 3] + "..."


def table(results: list[Result], failures: dict[str, str]) -> str:
    header = ("name", "value", "unit", "p50 ms", "p99 ms", "cpu us/req", "ratio", "target", "")
    rows: list[tuple[str, ...]] = [header]
    for r in results:
        ratio = f"{r.ratio:,.2f} x {r.reference}" if r.ratio is not None else ""
        rows.append(
            (
                r.name,
                _number(r.value, r.unit),
                r.unit,
                _ms(r.p50_ms),
                _ms(r.p99_ms),
                _cpu(r.details.get("server_cpu_us_per_request")),
                ratio,
                r.target or "",
                r.verdict,
            )
        )
    for name, error in failures.items():
        rows.append((name, "FAILED", "", "", "", "", "", "", _gist(error)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {1, 3, 4, 5}
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(report, indent=2) + "\n")
    temporary.replace(path)


# running ---------------------------------------------------------------------------
def _interrupt(signum: int, _: FrameType | None) -> None:
    raise Interrupted(f"signal {signal.Signals(signum).name}")


def run(params: Params, only: list[str] | None, output: Path, keep: bool) -> int:
    chosen = select(only)
    started_at = datetime.now(UTC)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="sessionscope-bench-"))
    failures: dict[str, str] = {}
    interrupted = False
    context: Context | None = None
    print(f"benchmark: {', '.join(m.name for m in chosen)}  (work dir {workdir})", flush=True)
    try:
        with Processes() as processes:
            context = Context(params, workdir, processes)
            for item in chosen:
                missing = [need for need in item.needs if need not in context.results]
                if missing:
                    failures[item.name] = f"skipped: needs {', '.join(missing)}, which failed"
                    continue
                print(f"-- {item.name}: {item.description}", flush=True)
                began = time.perf_counter()
                try:
                    result = item.run(context)
                except Exception as error:
                    failures[item.name] = f"{type(error).__name__}: {error}"
                    print(f"   FAILED: {failures[item.name]}", file=sys.stderr, flush=True)
                    if os.environ.get("BENCH_TRACEBACK"):
                        traceback.print_exc()
                    continue
                result.details.setdefault("seconds", round(time.perf_counter() - began, 2))
                context.results[item.name] = result
    except (KeyboardInterrupt, Interrupted) as error:
        interrupted = True
        failures["interrupted"] = str(error) or "Ctrl-C"
        print("\ninterrupted: every started process has been stopped", file=sys.stderr)
    results = list(context.results.values()) if context else []
    dataset = context.loaded if context else None
    report: dict[str, Any] = {
        "timestamp": started_at.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "parameters": asdict(params) | {"only": only},
        "machine": machine() | {"loadavg_at_start": load_at_start},
        "versions": versions(),
        "dataset": None
        if dataset is None
        else {
            "sessions": len(dataset.ids),
            "median_doc_bytes": dataset.median_doc_bytes,
            "mean_doc_bytes": round(dataset.mean_doc_bytes, 1),
            "load_seconds": round(dataset.load_seconds, 2),
            "load_per_s": round(dataset.load_rate, 1),
            "enriched": dataset.enriched,
        },
        "results": [asdict(r) | {"verdict": r.verdict or None} for r in results],
        "failures": failures,
        "ok": not failures,
    }
    write_json(output, report)
    print()
    if dataset is not None:
        print(
            f"data set: {len(dataset.ids):,} sessions, median document"
            f" {dataset.median_doc_bytes:,} B, loaded at {dataset.load_rate:,.0f}/s"
        )
    m = report["machine"]
    print(
        f"machine: {m['nproc']} CPUs ({m['cpu_model']}); wrk {params.threads} thread(s),"
        f" {params.connections} connections, {params.duration:g} s; {params.workers}"
        " worker(s) each for nginx and sessionscope"
    )
    print(table(results, failures))
    for line in noise(results):
        print(line)
    print(f"\nwritten: {output}")
    if keep or (failures and not interrupted):
        print(f"logs and database kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    if interrupted:
        return 130
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    params, args = parse_args(argv)
    only = [name for item in args.only for name in item.split(",") if name] if args.only else None
    try:
        select(only)
    except KeyError as error:
        print(f"bench: {error.args[0]}", file=sys.stderr)
        return 2
    # SIGINT too: a shell that starts the runner in the background makes it ignore SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    return run(params, only, args.output, args.keep)


if __name__ == "__main__":
    sys.exit(main())
