"""Enrichment: what each lookup costs in-process, and what it costs POST /v1/sessions.

In-process figures time one call against a reference taking the next input from an
identical pool (or a no-op), in alternating rounds (bench/micro.py). The geo-IP figures
use MaxMind's test databases (../shared/data/geoip-test), the IP lists are synthetic
ones of real sizes (a datacenter list of 60,000 networks, 2,000 Tor exits, ...; some
overlap, so about 92,000 distinct networks).
Over HTTP, the same server runs with its enrichment step on, and skipped
(bench/enrich_off_app.py), under the same wrk load.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from bench.context import Context, sessionscope_bin, venv_command
from bench.inproc import micro_result
from bench.load import USER_AGENTS, create_body, random_ip
from bench.micro import measure
from bench.procs import free_port, wait_http
from bench.registry import Result, measurement
from sessionscope import ingest
from sessionscope.clock import now_ms
from sessionscope.config import Settings
from sessionscope.enrich.geo import GeoConfig, GeoIP
from sessionscope.enrich.iplists import IPLists
from sessionscope.enrich.service import Enricher
from sessionscope.enrich.ua import parse_user_agent
from sessionscope.model import Session, SessionCreate, Site

REPO = Path(__file__).resolve().parent.parent
GEO_DIR = Path(
    os.environ.get("SESSIONSCOPE_GEOIP_TEST_DIR") or REPO.parent / "shared" / "data" / "geoip-test"
)
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
GEO_FILES = {
    "city": "GeoIP2-City-Test.mmdb",
    "asn": "GeoLite2-ASN-Test.mmdb",
    "isp": "GeoIP2-ISP-Test.mmdb",
    "connection_type": "GeoIP2-Connection-Type-Test.mmdb",
    "anonymous": "GeoIP2-Anonymous-IP-Test.mmdb",
}
# Networks per synthetic list: about the sizes `sessionscope lists update` writes.
LIST_SIZES = {"datacenter": 60_000, "private_relay": 30_000, "tor_exit": 2_000, "vpn": 5_000}
WARM_TARGET_NS = 100_000
_PUBLIC_FIRST_OCTETS = (3, 4, 13, 18, 20, 23, 34, 35, 40, 44, 52, 54, 104, 129, 130, 146, 172)


# ---- inputs -----------------------------------------------------------------------


def geo_paths() -> dict[str, Path]:
    paths = {name: GEO_DIR / file for name, file in GEO_FILES.items()}
    missing = [str(path) for path in paths.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"MaxMind test databases missing: {', '.join(missing)}")
    return paths


def geo_env() -> dict[str, str]:
    return {f"SESSIONSCOPE_GEOIP_{name.upper()}": str(path) for name, path in geo_paths().items()}


def _network(rng: random.Random) -> str:
    if rng.random() < 0.15:
        prefix = rng.choice((32, 40, 44, 48, 56, 64))
        value = (0x2600 << 112 | rng.getrandbits(112)) >> (128 - prefix) << (128 - prefix)
        return f"{_ipv6_text(value)}/{prefix}"
    prefix = rng.choice((16, 18, 20, 22, 24, 24, 26, 28, 32))
    value = (rng.choice(_PUBLIC_FIRST_OCTETS) << 24 | rng.getrandbits(24)) >> (32 - prefix)
    value <<= 32 - prefix
    return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}/{prefix}"


def _ipv6_text(value: int) -> str:
    return ":".join(f"{value >> shift & 0xFFFF:x}" for shift in range(112, -16, -16))


def lists_dir(ctx: Context) -> Path:
    """Synthetic list files of real sizes in the run's work dir (written once)."""
    folder = ctx.workdir / "enrich-lists"
    if not folder.exists():
        folder.mkdir()
        rng = random.Random(5)
        for name, size in LIST_SIZES.items():
            lines = "\n".join(_network(rng) for _ in range(size))
            (folder / f"{name}.txt").write_text(f"# synthetic, for the benchmark\n{lines}\n")
    return folder


def enricher(ctx: Context) -> Enricher:
    paths = {f"geoip_{name}": str(path) for name, path in geo_paths().items()}
    return Enricher.from_settings(Settings(**paths, lists_dir=str(lists_dir(ctx))))


def _as_ipv4(network: IPNetwork) -> IPNetwork:
    """An IPv4 network written the IPv6 way in MaxMind's test data (`::81.2.69.0/120`)."""
    first = int(network.network_address)
    if network.version == 6 and first < 1 << 32 and network.prefixlen >= 96:
        return ipaddress.IPv4Network((first, network.prefixlen - 96))
    return network


def known_ips(count: int, seed: int = 9) -> list[str]:
    """Distinct addresses inside networks the City, ASN and ISP test databases hold."""
    networks = [
        _as_ipv4(ipaddress.ip_network(network))
        for name in ("GeoIP2-City-Test", "GeoLite2-ASN-Test", "GeoIP2-ISP-Test")
        for record in json.loads((GEO_DIR / f"{name}.json").read_text())
        for network in record
    ]
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        network = rng.choice(networks)
        found[str(network[rng.randrange(network.num_addresses)])] = None
    return list(found)


def fresh_user_agents() -> Iterator[str]:
    """An endless run of user agents never seen before (new browser builds)."""
    for number in itertools.count():
        template = USER_AGENTS[number % len(USER_AGENTS)]
        yield template.replace("Mozilla/5.0", f"Mozilla/5.0 (build {number})", 1)


def sample_site() -> Site:
    return Site(
        tenant="bench",
        slug="web",
        uuid="3f0c1a52-8a59-4a4e-9a55-0d6e2d1c6b10",
        is_default=True,
        created_at="2024-01-01T00:00:00.000Z",
    )


def sessions(count: int, ips: list[str], user_agents: Iterator[str] | None) -> list[Session]:
    rng = random.Random(13)
    site, at = sample_site(), now_ms()
    made = []
    for index in range(count):
        body = create_body(rng, ips[index % len(ips)])
        if user_agents is not None:
            body["user_agent"] = next(user_agents)
        made.append(ingest.new_session(msgspec.convert(body, SessionCreate), site, 365, at))
    return made


def tenant_lists() -> IPLists:
    """What a tenant keeps over /v1/lists: a few hundred addresses of its own."""
    rng = random.Random(17)
    lists = IPLists()
    lists.set("fraud", [random_ip(rng) for _ in range(300)], source="tenant")
    return lists


def taking(pool: list[str] | list[Session]) -> Callable[[], object]:
    items = itertools.cycle(pool)
    return lambda: next(items)


# ---- in-process -------------------------------------------------------------------


@measurement("enrich_ua_first_seen", "user agent parse of a string never seen before")
def ua_first_seen(ctx: Context) -> Result:
    fresh, other = fresh_user_agents(), fresh_user_agents()
    micro = measure(lambda: parse_user_agent(next(fresh)), lambda: next(other))
    return micro_result(
        "enrich_ua_first_seen", "parse a first-seen user agent", micro, "next string"
    )


@measurement("enrich_ua_cached", "user agent parse of a string seen before (cache hit)")
def ua_cached(ctx: Context) -> Result:
    user_agent = USER_AGENTS[0]
    parse_user_agent(user_agent)
    micro = measure(lambda: parse_user_agent(user_agent))
    return micro_result("enrich_ua_cached", "parse a cached user agent", micro)


@measurement("enrich_geo_lookup", "geo-IP lookup in all five test databases, uncached")
def geo_lookup(ctx: Context) -> Result:
    paths = {name: str(path) for name, path in geo_paths().items()}
    geo = GeoIP(GeoConfig(**paths), fallback_data_file=None)
    ips = known_ips(120_000)  # more than the lookup cache holds: every lookup misses it
    lookup, take = taking(ips), taking(ips)
    micro = measure(lambda: geo.lookup(str(lookup())), take)
    address = ips[0]
    cached = measure(lambda: geo.lookup(address))
    result = micro_result(
        "enrich_geo_lookup", "geo-IP lookup, 5 databases, uncached", micro, "next address"
    )
    result.details["cached_ns"] = round(cached.ns, 1)
    return result


@measurement("enrich_list_match", "IP-list match over every list (one range index)")
def list_match(ctx: Context) -> Result:
    lists = IPLists()
    lists.load_dir(lists_dir(ctx))
    rng = random.Random(21)
    ips = [random_ip(rng) for _ in range(50_000)]
    match, take = taking(ips), taking(ips)
    micro = measure(lambda: lists.match(str(match())), take)
    networks = sum(info.size for info in lists.info())
    result = micro_result(
        "enrich_list_match", f"IP-list match, {networks:,} networks", micro, "next address"
    )
    result.details["networks"] = networks
    return result


@measurement("enrich_session_cold", "examine + apply: first-seen user agent and address")
def session_cold(ctx: Context) -> Result:
    service = enricher(ctx)
    own = tenant_lists()
    pool = sessions(20_000, known_ips(20_000, seed=31), fresh_user_agents())
    enrich, take = taking(pool), taking(pool)

    def once() -> None:
        session = enrich()
        assert isinstance(session, Session)
        service.apply(session, service.examine(session, own))

    micro = measure(once, take)
    return micro_result(
        "enrich_session_cold", "enrich a session, nothing cached", micro, "next session"
    )


@measurement("enrich_session_warm", "examine + apply: user agent and address seen before")
def session_warm(ctx: Context) -> Result:
    service = enricher(ctx)
    own = tenant_lists()
    pool = sessions(512, known_ips(512, seed=37), None)
    for session in pool:  # warm the user agent and geo-IP caches
        service.apply(session, service.examine(session, own))
    enrich, take = taking(pool), taking(pool)

    def once() -> None:
        session = enrich()
        assert isinstance(session, Session)
        service.apply(session, service.examine(session, own))

    micro = measure(once, take)
    result = micro_result(
        "enrich_session_warm", "enrich a session, warm caches", micro, "next session"
    )
    result.target = f"<= {WARM_TARGET_NS // 1000} us more than the reference (median)"
    result.passed = micro.net_ns <= WARM_TARGET_NS
    return result


# ---- over HTTP --------------------------------------------------------------------


def _post_load(ctx: Context, label: str, app_factory: str) -> Result:
    """POST /v1/sessions under wrk against a fresh database, served by `app_factory`."""
    folder = ctx.workdir / label
    folder.mkdir()
    database_url = f"sqlite:///{folder / 'db.sqlite'}"
    init = [sessionscope_bin(), "init", "--tenant", "bench", "--site", "web", "--json"]
    output = ctx.processes.run(
        f"init {label}", [*init, "--database-url", database_url], folder / "init.out", 60
    )
    key = json.loads(output.strip().splitlines()[-1])["secret_key"]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIONSCOPE_")}
    env |= geo_env() | {
        "SESSIONSCOPE_DATABASE_URL": database_url,
        "SESSIONSCOPE_LISTS_DIR": str(lists_dir(ctx)),
    }
    argv = [
        venv_command("granian"),
        *("--interface", "rsgi", "--loop", "uvloop", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--workers", str(ctx.params.workers), "--no-access-log", "--working-dir", str(REPO)),
        app_factory,
    ]
    child = ctx.processes.start(label, argv, folder / "serve.out", env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", child, timeout=60)
        load = ctx.wrk(label, base, "post_session.lua", [str(ctx.bodies_path()), key], child)
    finally:
        ctx.processes.stop(child)
    return Result(
        name=label,
        description="",
        value=load.run.ok_per_s,
        unit="sessions/s",
        p50_ms=load.run.p50_ms,
        p99_ms=load.run.p99_ms,
        details=load.details(ctx.params),
    )


@measurement("post_enrich_off", "POST /v1/sessions with the enrichment step skipped (reference)")
def post_enrich_off(ctx: Context) -> Result:
    result = _post_load(ctx, "post_enrich_off", "bench.enrich_off_app:create_app")
    result.description = "POST /v1/sessions, enrichment skipped"
    return result


@measurement(
    "post_enrich_on",
    "POST /v1/sessions with enrichment on: 5 geo test databases, synthetic full-size lists",
    ("post_enrich_off",),
)
def post_enrich_on(ctx: Context) -> Result:
    reference = ctx.reference("post_enrich_off")
    result = _post_load(ctx, "post_enrich_on", "sessionscope.http.app:create_app")
    result.description = "POST /v1/sessions, enrichment on"
    result.reference = reference.name
    result.reference_value = reference.value
    result.ratio = result.value / reference.value if reference.value else None
    on_cpu = result.details.get("server_cpu_us_per_request")
    off_cpu = reference.details.get("server_cpu_us_per_request")
    if isinstance(on_cpu, float | int) and isinstance(off_cpu, float | int):
        result.details["enrichment_cpu_us_per_request"] = round(on_cpu - off_cpu, 2)
    return result
