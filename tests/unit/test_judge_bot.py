"""Bot score, flags and kind."""

from __future__ import annotations

import pytest

from sessionscope.judge.bot import judge_bot
from sessionscope.judge.history import History
from sessionscope.judge.policy import Policy
from sessionscope.judge.signals import datacenter
from sessionscope.model import Bot, VelocityLimits
from tests.judgecases import CHROME_HINTS, GOOGLEBOT, HEADLESS, IPHONE, MAC_CHROME, case_for

CLEAN = "2.125.160.216"
HUMAN = {"mouse_num_events": 120, "scroll_num_events": 14, "active_ms": 90_000, "page_views": 3}


def bot_of(ip: str = CLEAN, user_agent: str = MAC_CHROME, **fields: object) -> Bot:
    case = case_for(ip, user_agent, **fields)  # type: ignore[arg-type]
    return judge_bot(case, datacenter(case))


def test_a_person_in_a_browser_is_not_a_bot() -> None:
    bot = bot_of(headers=CHROME_HINTS, behaviour=HUMAN, signals={"webdriver": False})
    assert bot == Bot(score=0.0, is_bot=False, flags=[], kind=None, reasons=[])


def test_webdriver_makes_a_bad_bot() -> None:
    bot = bot_of(signals={"webdriver": True})
    assert bot.is_bot and bot.kind == "bad" and bot.flags == ["webdriver"]
    assert bot.score == 0.95 and bot.reasons == ["navigator.webdriver is true"]


def test_automation_codes_from_the_browser_script() -> None:
    bot = bot_of(signals={"automation": ["cdp_runtime", "selenium_globals"]})
    assert bot.is_bot and bot.flags == ["automation_framework"]
    assert "cdp_runtime, selenium_globals" in bot.reasons[0]
    headless = bot_of(signals={"automation": ["headless_user_agent"]})
    assert headless.flags == ["headless_browser"] and headless.kind == "bad"


def test_weak_traces_add_up() -> None:
    one = bot_of(signals={"automation": ["no_plugins"]})
    assert not one.is_bot and one.flags == ["automation_traces"]
    three = bot_of(
        signals={"automation": ["no_plugins", "zero_outer_size", "missing_chrome_object"]}
    )
    assert three.is_bot and three.score == pytest.approx(1 - 0.65**3, abs=0.001)


def test_headless_user_agent() -> None:
    bot = bot_of(user_agent=HEADLESS)
    assert bot.is_bot and "headless_browser" in bot.flags


def test_googlebot_is_a_good_crawler_by_name() -> None:
    bot = bot_of("1.0.0.1", GOOGLEBOT)
    assert bot.is_bot and bot.kind == "good"
    assert bot.flags == ["crawler_user_agent", "datacenter_ip"]
    assert bot.reasons[0] == "the user agent is the crawler Googlebot"


def test_other_crawlers_and_http_libraries_are_unknown() -> None:
    crawler = bot_of(user_agent="Mozilla/5.0 (compatible; MysteryBot/1.0; +https://example.com)")
    assert crawler.is_bot and crawler.kind == "unknown"
    library = bot_of(user_agent="python-requests/2.32.3")
    assert library.is_bot and library.kind == "unknown" and library.flags == ["http_library"]


def test_a_missing_user_agent() -> None:
    assert bot_of(user_agent="").flags == ["missing_user_agent"]


def test_tampering_counts_once_however_many_ways_it_shows() -> None:
    tampered = bot_of(user_agent=IPHONE, headers=CHROME_HINTS, signals={"platform": "Win32"})
    assert set(tampered.flags) == {"ua_client_hints_mismatch", "ua_platform_mismatch"}
    assert tampered.score == 0.6 and not tampered.is_bot


def test_impossible_hardware_and_a_software_renderer() -> None:
    odd = {"hardware_concurrency": 0, "screen_width": 0, "screen_height": 0,
           "gpu_renderer": "Google SwiftShader"}  # fmt: skip
    bot = bot_of(signals=odd)
    assert bot.flags == ["impossible_hardware", "software_renderer"]
    assert bot.score == pytest.approx(1 - 0.4 * 0.6) and bot.is_bot
    phone_with_geforce = bot_of(
        user_agent=IPHONE, signals={"gpu_renderer": "NVIDIA GeForce RTX 4090"}
    )
    assert "a mobile device reports the desktop GPU" in phone_with_geforce.reasons[0]


def test_no_human_interaction_needs_time_on_the_page() -> None:
    idle = bot_of(behaviour={"active_ms": 120_000, "page_views": 1})
    assert idle.flags == ["no_human_interaction"] and not idle.is_bot
    just_arrived = bot_of(behaviour={"active_ms": 2_000, "page_views": 1})
    assert just_arrived.flags == []


def test_velocity_over_the_site_limits() -> None:
    history = History(velocity={"ip": (4, 4, 4), "device": (12, 12, 12)})
    case = case_for(CLEAN, history=history)
    bot = judge_bot(case, datacenter(case))
    assert bot.flags == ["high_velocity"] and not bot.is_bot
    assert bot.reasons == ["12 sessions from this device in 5 minutes (limit 10)"]
    strict = Policy(velocity=VelocityLimits(ip_5m=3))
    case = case_for(CLEAN, history=history, policy=strict)
    reasons = judge_bot(case, datacenter(case)).reasons
    assert f"4 sessions from IP {CLEAN} in 5 minutes (limit 3)" in reasons


def test_the_site_sets_the_threshold() -> None:
    idle = {"active_ms": 120_000, "page_views": 1}
    case = case_for(CLEAN, behaviour=idle, policy=Policy(bot_threshold=0.5))
    bot = judge_bot(case, datacenter(case))
    assert bot.is_bot and bot.kind == "bad"
