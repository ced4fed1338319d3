"""The browser script in real headless Chromium, against a served app and its /demo page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.browser.harness import Chromium, DemoSite, ShopSite, save_screenshots

pytestmark = pytest.mark.browser

OTHER_PROFILE: dict[str, Any] = {
    "user_agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/155.0.0.0 Safari/537.36"
    ),
    "screen": {"width": 1920, "height": 1080},
    "viewport": {"width": 1600, "height": 900},
    "timezone_id": "Asia/Tokyo",
    "locale": "ja-JP",
}


def open_demo(page: Page, demo: DemoSite) -> dict[str, Any]:
    """Load /demo, wait until it shows its session, and return the page's ids."""
    page.goto(f"{demo.base_url}/demo")
    page.wait_for_selector("body[data-shown]")
    ids: dict[str, Any] = page.evaluate("Sessionscope.session()")
    assert ids["session_id"] and ids["device_id"], ids
    return ids


def flushed_session(page: Page, demo: DemoSite, session_id: str) -> dict[str, Any]:
    page.evaluate("Sessionscope.flush()")
    return demo.session(session_id)


def test_demo_page_opens_a_full_session(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    ids = open_demo(page, demo_site)
    session = demo_site.session(ids["session_id"])
    assert session["device_id"] == ids["device_id"]
    device, browser = session["device"], session["browser"]
    assert device["screen_width"] > 0 and device["screen_height"] > 0
    assert device["cpu_cores"] >= 1
    assert device["gpu"]
    assert device["identified_by"] in ("new", "fingerprint")
    assert browser["timezone"] and browser["languages"]
    assert session["behaviour"]["page_views"] == 1
    assert session["page_url"] == f"{demo_site.base_url}/demo"
    shown = page.text_content("#session") or ""
    assert ids["session_id"] in shown  # the page shows what the backend reads
    assert chromium.page_errors == []


def test_behaviour_counts_rise_with_input(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    ids = open_demo(page, demo_site)
    before = demo_site.session(ids["session_id"])["behaviour"]
    for step in range(12):
        page.mouse.move(40 + step * 25, 60 + step * 10)
    page.click("#playground")
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("ControlOrMeta+C")
    page.keyboard.press("End")
    page.keyboard.type(" more words")
    page.keyboard.press("ControlOrMeta+V")
    page.mouse.wheel(0, 400)
    after = flushed_session(page, demo_site, ids["session_id"])["behaviour"]
    assert after["mouse_num_events"] >= before["mouse_num_events"] + 10
    assert after["click_num_events"] >= before["click_num_events"] + 1
    assert after["keyboard_num_events"] >= before["keyboard_num_events"] + 11
    assert after["clipboard_num_events"] >= before["clipboard_num_events"] + 2
    assert after["active_ms"] > before["active_ms"]


def test_reload_keeps_the_session_and_the_device(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    first = open_demo(page, demo_site)
    page.keyboard.type("abc")
    page.reload()
    page.wait_for_selector("body[data-shown]")
    again = page.evaluate("Sessionscope.session()")
    assert again == first
    session = flushed_session(page, demo_site, first["session_id"])
    assert session["behaviour"]["page_views"] == 2
    assert session["behaviour"]["keyboard_num_events"] >= 3  # carried over the reload


def test_a_fresh_context_is_the_same_device(chromium: Chromium, demo_site: DemoSite) -> None:
    first = open_demo(chromium.page(), demo_site)
    fresh = open_demo(chromium.page(), demo_site)  # cookies and storage gone
    assert fresh["session_id"] != first["session_id"]
    assert fresh["device_id"] == first["device_id"]
    device = demo_site.session(fresh["session_id"])["device"]
    assert device["identified_by"] == "fingerprint"
    assert device["identification_confidence"] >= 0.75


def test_another_profile_is_another_device(chromium: Chromium, demo_site: DemoSite) -> None:
    first = open_demo(chromium.page(), demo_site)
    other = open_demo(chromium.page(**OTHER_PROFILE), demo_site)
    assert other["device_id"] != first["device_id"]
    session = demo_site.session(other["session_id"])
    assert session["device"]["identified_by"] == "new"
    assert session["browser"]["timezone"] == "Asia/Tokyo"
    assert session["browser"]["language"] == "ja-JP"
    assert (session["device"]["screen_width"], session["device"]["screen_height"]) == (1920, 1080)


def test_automation_markers_reach_the_server(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    ids = open_demo(page, demo_site)
    session = flushed_session(page, demo_site, ids["session_id"])
    signals = session["signals"]
    assert signals["webdriver"] is True
    assert {"webdriver", "headless_user_agent"} <= set(signals["automation"])
    # this test called into the page through the devtools protocol: the script saw it
    assert "cdp_runtime" in signals["automation"]
    # and the judgement reads them: headless Chromium under automation is a bot
    assert session["bot"]["is_bot"] is True
    assert {"webdriver", "headless_browser"} <= set(session["bot"]["flags"])


def test_reset_starts_a_new_session_on_the_same_device(
    chromium: Chromium, demo_site: DemoSite
) -> None:
    page = chromium.page()
    first = open_demo(page, demo_site)
    fresh = page.evaluate("Sessionscope.reset()")
    assert fresh["session_id"] != first["session_id"]
    assert fresh["device_id"] == first["device_id"]
    assert demo_site.session(fresh["session_id"])["device"]["identified_by"] == "token"
    page.reload()
    page.wait_for_selector("body[data-shown]")
    assert page.evaluate("Sessionscope.session()") == fresh


def test_leaving_the_page_sends_a_beacon(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    ids = open_demo(page, demo_site)
    typed = "typed then gone"
    page.keyboard.type(typed)
    page.goto("about:blank")  # pagehide: the script hands its totals to sendBeacon
    behaviour = demo_site.session(ids["session_id"])["behaviour"]
    for _ in range(50):  # the beacon travels on its own; give it a moment to land
        if behaviour["keyboard_num_events"] >= len(typed):
            break
        page.wait_for_timeout(100)
        behaviour = demo_site.session(ids["session_id"])["behaviour"]
    assert behaviour["keyboard_num_events"] >= len(typed)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_page_on_another_origin(chromium: Chromium, shop_site: ShopSite, host: str) -> None:
    allowed = shop_site.url(host, "/basket").startswith(shop_site.origin)
    page = chromium.page()
    page.goto(shop_site.url(host, "/basket"))
    page.wait_for_function("window.Sessionscope && window.hostStillRuns")
    ids = page.evaluate("Sessionscope.session()")
    if allowed:
        assert ids["session_id"] and ids["device_id"]
    else:  # the key allows only the other host name: no session, and no harm done
        assert ids == {"session_id": None, "device_id": None}
    assert page.evaluate("Sessionscope.flush().then(() => 'still fine')") == "still fine"
    assert chromium.page_errors == []


def test_a_cross_origin_session_is_complete(
    chromium: Chromium, demo_site: DemoSite, shop_site: ShopSite
) -> None:
    page = chromium.page()
    page.goto(shop_site.url("127.0.0.1", "/basket?item=7#top"))
    page.wait_for_function("window.Sessionscope")
    ids = page.evaluate("Sessionscope.session()")
    session = demo_site.session(ids["session_id"])
    assert session["page_url"] == f"{shop_site.origin}/basket?item=7"  # never the fragment
    assert session["device"]["cpu_cores"] >= 1 and session["browser"]["timezone"]


def test_failures_leave_screenshots(chromium: Chromium, demo_site: DemoSite) -> None:
    page = chromium.page()
    open_demo(page, demo_site)
    saved = save_screenshots("screenshot-probe", chromium.pages())
    try:
        assert len(saved) == 1
        assert saved[0].parent.name == "artifacts"
        assert saved[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        for path in saved:
            path.unlink()
