"""HTTP measurements: the nginx floor, then our server's GET and POST under wrk."""

from __future__ import annotations

import os
from pathlib import Path

from bench.context import Context, venv_command
from bench.nginx import start_nginx
from bench.procs import Child, free_port, wait_http
from bench.registry import Result, measurement

REPO = Path(__file__).resolve().parent.parent

GET_TARGET_RATIO = 0.30
POST_TARGET_PER_S = 3_000.0


@measurement("nginx_get", "nginx: static JSON file, same size (reference)")
def nginx_get(ctx: Context) -> Result:
    data = ctx.dataset()
    keys = ctx.keys()
    port = free_port()
    child = start_nginx(
        ctx.processes, ctx.workdir / "nginx", port, ctx.params.workers, data.typical_doc
    )
    try:
        load = ctx.wrk(
            "nginx_get",
            f"http://127.0.0.1:{port}",
            "get_session.lua",
            [str(ctx.ids_path), keys.secret_key],
            child,
        )
    finally:
        ctx.processes.stop(child)
    run = load.run
    details = load.details(ctx.params)
    details["doc_bytes"] = len(data.typical_doc)
    return Result(
        name="nginx_get",
        description=f"nginx static {len(data.typical_doc):,} B file (reference)",
        value=run.rps,
        unit="req/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        details=details,
    )


@measurement("granian_floor", "Granian + uvloop serving a fixed document (no app code)")
def granian_floor(ctx: Context) -> Result:
    data = ctx.dataset()
    keys = ctx.keys()
    doc_path = ctx.workdir / "floor-doc.json"
    doc_path.write_bytes(data.typical_doc)
    port = free_port()
    argv = [
        venv_command("granian"),
        "--interface",
        "rsgi",
        "--loop",
        "uvloop",  # as `sessionscope serve` runs
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(ctx.params.workers),
        "--no-access-log",
        "--working-dir",
        str(REPO),
        "bench.floor_app:rsgi_app",
    ]
    env = dict(os.environ, BENCH_FLOOR_DOC=str(doc_path))
    child = ctx.processes.start("granian floor", argv, ctx.workdir / "floor.out", env)
    try:
        wait_http(f"http://127.0.0.1:{port}/", child, timeout=30)
        load = ctx.wrk(
            "granian_floor",
            f"http://127.0.0.1:{port}",
            "get_session.lua",
            [str(ctx.ids_path), keys.secret_key],
            child,
        )
    finally:
        ctx.processes.stop(child)
    run = load.run
    reference = ctx.results.get("nginx_get")
    return Result(
        name="granian_floor",
        description="Granian RSGI + uvloop, fixed document, no app code",
        value=run.rps,
        unit="req/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        reference=reference.name if reference else None,
        reference_value=reference.value if reference else None,
        ratio=run.rps / reference.value if reference else None,
        details=load.details(ctx.params),
    )


@measurement("get_session", "GET /v1/sessions/{id}, random id of the loaded set", ("nginx_get",))
def get_session(ctx: Context) -> Result:
    reference = ctx.reference("nginx_get")
    keys = ctx.keys()
    server, base = ctx.server()
    warm = ctx.warm_pass(base)
    load = ctx.wrk(
        "get_session", base, "get_session.lua", [str(ctx.ids_path), keys.secret_key], server
    )
    run = load.run
    details = load.details(ctx.params)
    details["warm_pass"] = {"reads": warm.requests, "seconds": warm.duration_s}
    cpu_reference = reference.details.get("server_cpu_us_per_request")
    if cpu_reference:
        # CPU per request against nginx's: a ratio that holds even on a busy machine.
        details["cpu_per_request_vs_reference"] = round(
            load.server_cpu_us_per_request / cpu_reference, 2
        )
    floor = ctx.results.get("granian_floor")
    if floor is not None:
        details["vs_granian_floor"] = round(run.rps / floor.value, 3)
    ratio = run.rps / reference.value
    return Result(
        name="get_session",
        description="GET /v1/sessions/{id} (random loaded id)",
        value=run.rps,
        unit="req/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        reference=reference.name,
        reference_value=reference.value,
        ratio=ratio,
        target=f">= {GET_TARGET_RATIO:.2f} x {reference.name}",
        passed=ratio >= GET_TARGET_RATIO,
        details=details,
    )


@measurement("post_session", "POST /v1/sessions, varied IP per request")
def post_session(ctx: Context) -> Result:
    server, base = ctx.server()
    return _post_result(ctx, "post_session", "POST /v1/sessions (201 each)", server, base)


@measurement(
    "post_session_all_cores", "POST /v1/sessions, one worker per CPU core (the machine's rate)"
)
def post_session_all_cores(ctx: Context) -> Result:
    workers = os.cpu_count() or 1
    server, base = ctx.start_server("sessionscope serve (all cores)", workers)
    try:
        description = f"POST /v1/sessions, {workers} workers (201 each)"
        result = _post_result(ctx, "post_session_all_cores", description, server, base)
    finally:
        ctx.processes.stop(server)
    result.details["workers"] = workers
    return result


def _post_result(ctx: Context, name: str, description: str, server: Child, base: str) -> Result:
    keys = ctx.keys()
    bodies = str(ctx.bodies_path())
    load = ctx.wrk(name, base, "post_session.lua", [bodies, keys.secret_key], server)
    run = load.run
    created = run.ok_per_s
    return Result(
        name=name,
        description=description,
        value=created,
        unit="sessions/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        target=f">= {POST_TARGET_PER_S:,.0f} sessions/s",
        passed=created >= POST_TARGET_PER_S,
        details=load.details(ctx.params),
    )
