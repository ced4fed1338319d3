"""The data set: N realistic session documents, written straight through the store API.

Documents are built the way the API builds them (`ingest.new_session` from a
validated `SessionCreate`), with varied IP addresses, user agents, languages,
pages and users, and created over the last 30 days. Inserts go out with
`asyncio.gather` in chunks so that the store's group commit batches them.
"""

from __future__ import annotations

import asyncio
import importlib
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from sessionscope import ingest
from sessionscope.clock import now_ms
from sessionscope.config import load_settings
from sessionscope.model import Session, SessionCreate
from sessionscope.store.sqlite import SQLiteStore

Enrich = Callable[[Session], Awaitable[object]]

IP_MARKER = "__IP__"
_DAY_MS = 86_400_000

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.6367.82 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 7.0) AppleWebKit/537.36 (KHTML, like Gecko)"
    " SamsungBrowser/5.0 Chrome/94.0.4606.31 TV Safari/537.36",
    "curl/8.5.0",
)
LANGUAGES = (
    "en-GB,en;q=0.9",
    "en-US,en;q=0.9",
    "de-DE,de;q=0.9,en;q=0.8",
    "fr-FR,fr;q=0.9",
    "es-ES,es;q=0.9",
    "nl-NL,nl;q=0.9,en;q=0.7",
    "pt-BR,pt;q=0.9",
    "ja-JP,ja;q=0.9",
)
PAGES = (
    "/",
    "/pricing",
    "/blog/how-we-measure",
    "/account",
    "/checkout",
    "/products/42",
    "/search?q=running+shoes",
    "/news/2024/05/markets",
    "/login",
    "/help/returns",
)
REFERRERS = (
    None,
    None,
    "https://www.google.com/",
    "https://news.ycombinator.com/",
    "https://t.co/abc123",
    "https://www.bing.com/search?q=shop",
)
# First octets of blocks ISPs and carriers announce (no private or reserved space).
# fmt: off
_FIRST_OCTETS = (2, 5, 24, 31, 37, 46, 62, 66, 71, 77, 78, 81, 82, 86, 88, 89, 90, 91, 92, 93,
                 94, 95, 98, 104, 109, 151, 176, 178, 185, 188, 193, 195, 197, 201, 213, 217)
# fmt: on


def random_ip(rng: random.Random) -> str:
    if rng.random() < 0.12:
        groups = [rng.randrange(65536) for _ in range(3)]
        return f"2a02:{groups[0]:x}:{groups[1]:x}:{groups[2]:x}::{rng.randrange(1, 65536):x}"
    return (
        f"{rng.choice(_FIRST_OCTETS)}.{rng.randrange(256)}.{rng.randrange(256)}"
        f".{rng.randrange(1, 255)}"
    )


def create_body(rng: random.Random, ip: str) -> dict[str, Any]:
    """A create request as a site backend would send it (JSON-ready)."""
    user_agent = rng.choice(USER_AGENTS)
    language = rng.choice(LANGUAGES)
    page = rng.choice(PAGES)
    body: dict[str, Any] = {
        "ip": ip,
        "user_agent": user_agent,
        "accept_language": language,
        "page_url": f"https://shop.example.com{page}",
        "headers": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate, br",
            "Accept-Language": language,
            "Sec-Fetch-Site": rng.choice(("none", "same-origin", "cross-site")),
        },
        "behaviour": {"page_views": rng.randrange(1, 12), "active_ms": rng.randrange(200_000)},
        "test_groups": {"checkout_v2": rng.choice(("control", "variant"))},
    }
    referrer = rng.choice(REFERRERS)
    if referrer:
        body["referrer"] = referrer
    if rng.random() < 0.35:
        user = rng.randrange(1, 5_000_000)
        body["user"] = {"id": f"u{user}", "email": f"user{user}@mail.example"}
        body["account_ids"] = [f"acct-{user % 700_000}"]
    return body


def post_bodies(count: int, seed: int = 7) -> list[bytes]:
    """JSON create bodies with the IP left as the marker the POST Lua script replaces."""
    rng = random.Random(seed)
    encoder = msgspec.json.Encoder()
    return [encoder.encode(create_body(rng, IP_MARKER)) for _ in range(count)]


def enrichment() -> Enrich | None:
    """The service's own enrichment step (what POST runs before storing), if it has one.

    Loaded documents then carry device, browser, location and network parts like the
    ones the API stores, so the GET benchmark serves documents of a realistic size.
    """
    try:
        pipeline_module = importlib.import_module("sessionscope.pipeline")
        service_module = importlib.import_module("sessionscope.enrich.service")
    except ImportError:
        return None
    enricher = service_module.Enricher.from_settings(load_settings())
    pipeline = pipeline_module.Pipeline(enricher)
    process: Enrich = pipeline.process
    return process


@dataclass(frozen=True)
class Dataset:
    ids: list[str]
    typical_doc: bytes  # a stored document of the median size, as stored
    median_doc_bytes: int
    mean_doc_bytes: float
    load_seconds: float
    enriched: bool

    @property
    def load_rate(self) -> float:
        return len(self.ids) / self.load_seconds if self.load_seconds else 0.0


async def load_sessions(
    database_url: str,
    tenant: str,
    site_slug: str,
    count: int,
    *,
    seed: int = 1,
    chunk: int = 2048,
    lifetime_days: int = 365,
    progress: bool = True,
) -> Dataset:
    """Insert `count` sessions through the store API; their ids and a typical document."""
    rng = random.Random(seed)
    encoder = msgspec.json.Encoder()
    enrich = enrichment()
    store = SQLiteStore(database_url)
    await store.open()
    try:
        site = await store.get_site(tenant, site_slug)
        if site is None:
            raise RuntimeError(f"no site {site_slug!r} in tenant {tenant!r}")
        ids: list[str] = []
        sizes: list[int] = []
        # Sessions arrive in time order: creation times spread over the last 30 days,
        # ascending, so that time-ordered ids (UUIDv7) are inserted as they would be live.
        now = now_ms()
        moments = sorted(now - rng.randrange(30 * _DAY_MS) for _ in range(count))
        started = time.perf_counter()
        for first in range(0, count, chunk):
            batch = []
            for _ in range(min(chunk, count - first)):
                payload = msgspec.convert(create_body(rng, random_ip(rng)), SessionCreate)
                session = ingest.new_session(payload, site, lifetime_days, moments[len(ids)])
                if enrich is not None:
                    await enrich(session)
                ids.append(session.id)
                sizes.append(len(encoder.encode(session)))
                batch.append(store.insert_session(session))
            await asyncio.gather(*batch)
            if progress:
                elapsed = time.perf_counter() - started
                done = len(ids)
                sys.stderr.write(
                    f"\rloading sessions: {done:,}/{count:,} ({done / elapsed:,.0f}/s)   "
                )
                sys.stderr.flush()
        seconds = time.perf_counter() - started
        if progress:
            sys.stderr.write("\n")
        median = int(statistics.median_low(sizes))
        typical_id = ids[sizes.index(median)]
        stored = await store.get_session(tenant, typical_id)
        if stored is None:
            raise RuntimeError(f"session {typical_id} was not stored")
        return Dataset(
            ids=ids,
            typical_doc=stored.doc,
            median_doc_bytes=median,
            mean_doc_bytes=statistics.fmean(sizes),
            load_seconds=seconds,
            enriched=enrich is not None,
        )
    finally:
        await store.close()
