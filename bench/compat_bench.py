"""The compatible read APIs under wrk: one GET per dialect, against nginx in the same run.

These run against a server of their own on the run's database, started with a per-key
rate limit high enough not to answer 429 under load (the default, 1200 a minute, is a
production guard, not a throughput cap).

Zephr requests each carry a fresh random nonce and their own signature, as a real client's
must. The runner signs them ahead of each wrk run (`presigned_zephr`), as the other scripts
format their requests ahead: wrk's SHA-256 is pure Lua, and signing in wrk cost about
33 µs of the two shared cores per request, a third of what the server spent answering it.
Should a run outlast its signed requests, bench/lua/zephr_get.lua signs the rest itself.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

import bench.http_bench  # noqa: F401  (registers nginx_get, the reference, first)
from bench.context import WARM_PASS_MIN_RATE, Context, Load, sessionscope_bin
from bench.procs import Child
from bench.registry import Result, measurement
from bench.wrk import run_wrk
from sessionscope.auth.zephr_hmac import authorization

TARGET_RATIO = 0.25
_UNLIMITED = "10000000"
# Signed requests made per second of a run: above any rate two cores reach. A run that
# outpaces them signs the rest in Lua, at a cost the figure then shows.
PRESIGNED_PER_SECOND = 60_000
# First reads through Zephr also read each user's list from SQLite: half the native pass's rate.
ZEPHR_WARM_PASS_MIN_RATE = WARM_PASS_MIN_RATE // 2


@dataclass(frozen=True)
class CompatServer:
    child: Child
    base: str
    access_key: str
    secret_key: str


_servers: dict[int, CompatServer] = {}


def compat_server(ctx: Context) -> CompatServer:
    """Our server for these runs (once per run), and an HMAC key pair of the bench tenant."""
    found = _servers.get(id(ctx))
    if found is not None:
        return found
    ctx.dataset()
    keys = ctx.keys()
    output = ctx.processes.run(
        "sessionscope keys create",
        [
            sessionscope_bin(),
            "keys",
            "create",
            "--tenant",
            keys.tenant,
            "--kind",
            "hmac",
            "--json",
            "--database-url",
            ctx.database_url,
        ],
        ctx.workdir / "hmac-key.out",
        timeout=60,
    )
    pair = json.loads(output.strip().splitlines()[-1])
    env = dict(os.environ, SESSIONSCOPE_COMPAT_RATE_LIMIT=_UNLIMITED)
    child, base = ctx.start_server("sessionscope serve (compat)", ctx.params.workers, env)
    ctx.warm_pass(base)  # every session in its read cache, as for get_session
    server = CompatServer(child, base, pair["access_key"], pair["secret_key"])
    _servers[id(ctx)] = server
    return server


def compat_result(ctx: Context, name: str, description: str, load: Load) -> Result:
    reference = ctx.reference("nginx_get")
    run = load.run
    details = load.details(ctx.params)
    native = ctx.results.get("get_session")
    if native is not None:
        details["vs_native_get"] = round(run.rps / native.value, 3)
    ratio = run.rps / reference.value
    return Result(
        name=name,
        description=description,
        value=run.rps,
        unit="req/s",
        p50_ms=run.p50_ms,
        p99_ms=run.p99_ms,
        reference=reference.name,
        reference_value=reference.value,
        ratio=ratio,
        target=f">= {TARGET_RATIO:.2f} x {reference.name}",
        passed=ratio >= TARGET_RATIO,
        details=details,
    )


def secret_key_get(ctx: Context, name: str, before: str, after: str, bearer: bool) -> Load:
    server = compat_server(ctx)
    secret = ctx.keys().secret_key
    header, value = ("authorization", f"Bearer {secret}") if bearer else ("x-api-key", secret)
    return ctx.wrk(
        name,
        server.base,
        "compat_get.lua",
        [str(ctx.ids_path), before, after, header, value],
        server.child,
    )


@measurement(
    "compat_zephr",
    "Zephr GET /v4/sessions/{site}/{id}, HMAC-signed per request",
    ("nginx_get",),
)
def compat_zephr(ctx: Context) -> Result:
    server = compat_server(ctx)
    before = f"/compat/zephr/v4/sessions/{ctx.keys().site}/"
    ids = ctx.ids_path.read_text().split()
    keys = [server.access_key, server.secret_key]
    zephr_warm_pass(ctx, server, before, [before + session_id for session_id in ids], keys)

    def script_args(label: str, seconds: float) -> list[str]:
        chooser = random.Random()
        paths = [before + chooser.choice(ids) for _ in range(int(PRESIGNED_PER_SECOND * seconds))]
        signed = presigned_zephr(ctx, server, paths, label)
        return [str(ctx.ids_path), before, *keys, str(signed), str(ctx.params.threads)]

    load = ctx.wrk("compat_zephr", server.base, "zephr_get.lua", script_args, server.child)
    return compat_result(ctx, "compat_zephr", "Zephr v4 GET (HMAC, nonce per request)", load)


def zephr_warm_pass(
    ctx: Context, server: CompatServer, before: str, paths: list[str], keys: list[str]
) -> None:
    """Every loaded session read once through Zephr, as `Context.warm_pass` does natively:
    what Zephr alone keeps (the lists of each user's sessions) is then warm too."""
    signed = presigned_zephr(ctx, server, paths, "warm-pass")
    run = run_wrk(
        ctx.processes,
        url=server.base,
        script="zephr_get.lua",
        script_args=[str(ctx.ids_path), before, *keys, str(signed), "1"],
        duration_s=max(2.0, len(paths) / ZEPHR_WARM_PASS_MIN_RATE),
        connections=ctx.params.connections,
        threads=1,
        log_path=ctx.workdir / "wrk-zephr-warm-pass.out",
    )
    run.check()
    if run.ok < len(paths):
        raise RuntimeError(f"the Zephr warm pass read {run.ok:,} of {len(paths):,} sessions")


def presigned_zephr(ctx: Context, server: CompatServer, paths: list[str], label: str) -> Path:
    """A file of signed GETs of `paths` for one wrk run, a line each: the path, a tab, the
    Authorization header, with a random nonce and the current time."""
    timestamp_ms = int(time.time() * 1000)
    chooser = random.Random()
    lines = []
    for path in paths:
        header = authorization(
            server.access_key,
            server.secret_key,
            "GET",
            path,
            timestamp_ms=timestamp_ms,
            nonce=chooser.randbytes(16).hex(),
        )
        lines.append(f"{path}\t{header}\n")
    signed = ctx.workdir / f"zephr-signed-{label}.txt"
    signed.write_text("".join(lines))
    return signed


@measurement("compat_verisoul", "Verisoul GET /session/{id}", ("nginx_get",))
def compat_verisoul(ctx: Context) -> Result:
    load = secret_key_get(ctx, "compat_verisoul", "/compat/verisoul/session/", "", bearer=False)
    return compat_result(ctx, "compat_verisoul", "Verisoul GET /session/{id}", load)


@measurement("compat_mobilenext", "Mobile Next GET /api/v1/sessions/{id}", ("nginx_get",))
def compat_mobilenext(ctx: Context) -> Result:
    load = secret_key_get(
        ctx, "compat_mobilenext", "/compat/mobilenext/api/v1/sessions/", "", bearer=True
    )
    return compat_result(ctx, "compat_mobilenext", "Mobile Next GET /api/v1/sessions/{id}", load)


@measurement("compat_isnotai", "isnotai GET /v1/sessions/{id}", ("nginx_get",))
def compat_isnotai(ctx: Context) -> Result:
    load = secret_key_get(ctx, "compat_isnotai", "/compat/isnotai/v1/sessions/", "", bearer=True)
    return compat_result(ctx, "compat_isnotai", "isnotai GET /v1/sessions/{id}", load)
