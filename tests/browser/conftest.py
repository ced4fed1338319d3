"""Headless Chromium (Debian's /usr/bin/chromium through Playwright) against a served demo.

A failed test leaves a screenshot of each page it had open in tests/artifacts/.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Chromium,
    DemoSite,
    ShopSite,
    save_screenshots,
)
from tests.server import Server, cli, init_tenant


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """The demo on an embedded store of its own (what `make run` serves)."""
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder / 'demo.db'}"
    tenant = f"demo-{uuid.uuid4().hex[:10]}"
    made = init_tenant(url, tenant, "web")
    env = {"SESSIONSCOPE_DEMO_SITE": f"{tenant}|web"}
    server = Server(url, env=env).start(folder)
    try:
        cli(url, "demo-key", "--tenant", tenant, "--site", "web", "--origin", server.base_url)
        yield DemoSite(server, tenant, made["secret_key"])
    finally:
        server.stop()


@pytest.fixture(scope="session")
def shop_site(demo_site: DemoSite) -> Iterator[ShopSite]:
    shop = ShopSite(demo_site)
    yield shop
    shop.close()


# Module scope: Playwright's sync API keeps an event loop current while it runs, which
# must be gone before tests elsewhere start loops of their own.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # launch() gives the browser a fresh user-data directory of its own; every context
    # starts with empty cookies and storage.
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def chromium(browser: Browser) -> Iterator[Chromium]:
    opened = Chromium(browser)
    yield opened
    for context in opened.contexts:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    opened = getattr(item, "funcargs", {}).get("chromium")
    if report.when == "call" and report.failed and isinstance(opened, Chromium):
        try:
            saved = save_screenshots(item.name, opened.pages())
        except Exception as error:  # a screenshot must never hide the real failure
            report.sections.append(("screenshots", f"could not save: {error}"))
        else:
            report.sections.append(("screenshots", "\n".join(str(path) for path in saved)))
    return report
