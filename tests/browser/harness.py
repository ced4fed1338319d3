"""What the browser tests drive: the served demo, a shop page on another origin, and
the Chromium contexts a test opens (screenshotted when it fails)."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page

from tests.conftest import artifacts_dir
from tests.server import Server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class DemoSite:
    """A served app whose /demo page uses the site `web` of a tenant of its own."""

    server: Server
    tenant: str
    secret: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def session(self, session_id: str) -> dict[str, Any]:
        """The session as the site's backend reads it."""
        answer = httpx.get(
            f"{self.base_url}/v1/sessions/{session_id}",
            headers={"x-api-key": self.secret},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found


class ShopSite:
    """A site's own page on another loopback origin, loading the script from the service.

    A real server, not Playwright's router: Chromium lets only pages that really come from
    the local network reach loopback addresses.
    """

    def __init__(self, demo: DemoSite) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        issued = httpx.post(
            f"{demo.base_url}/v1/keys",
            json={"kind": "publishable", "site": "web", "origins": [self.origin]},
            headers={"x-api-key": demo.secret},
        )
        assert issued.status_code == 201, issued.text
        self.page = (
            "<!doctype html><html><body><p>the shop</p>"
            f"<script src='{demo.base_url}/sdk.js' data-key='{issued.json()['key']}' async>"
            "</script><script>window.hostStillRuns = true;</script></body></html>"
        ).encode()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(shop.page)))
                self.end_headers()
                self.wfile.write(shop.page)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Chromium:
    """Contexts opened by one test, closed after it; their pages are screenshotted on failure."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def context(self, **options: Any) -> BrowserContext:
        made = self.browser.new_context(**options)
        self.contexts.append(made)
        return made

    def page(self, **options: Any) -> Page:
        opened = self.context(**options).new_page()
        opened.on("pageerror", lambda error: self.page_errors.append(str(error)))
        return opened

    def pages(self) -> list[Page]:
        return [page for context in self.contexts for page in context.pages]


def save_screenshots(test_name: str, pages: list[Page]) -> list[Path]:
    """A PNG of each page in tests/artifacts/, named after the test."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
    saved = []
    for number, page in enumerate(pages):
        path = artifacts_dir() / f"{stem}-{number}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    return saved
