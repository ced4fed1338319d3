"""Bot score: is a program, not a person, behind the session?

Each rule that fires adds a stable flag with a score; findings of one group (the same
fact seen twice, e.g. two ways of tampering with the user agent) count once, at their
strongest, and groups combine as independent evidence (noisy-or). `is_bot` is the score
at or above the site's threshold (default 0.7). `kind` says what sort of bot: `good` for
a crawler that names itself as a known search engine or link previewer (by name only;
no reverse-DNS check), `bad` for automation that poses as a person's browser, `unknown`
for the rest (other crawlers, HTTP libraries, high velocity).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from sessionscope.judge.case import Case
from sessionscope.judge.findings import noisy_or
from sessionscope.judge.hardware import (
    hardware_contradicts_device,
    impossible_hardware,
    software_renderer,
)
from sessionscope.judge.velocity import WINDOWS
from sessionscope.model import Bot, BotKind, RiskSignal

# Crawlers that are welcome on most sites, matched on the name their user agent gives.
GOOD_CRAWLERS: Final = (
    "googlebot", "google-inspectiontool", "googleother", "storebot-google", "adsbot-google",
    "mediapartners-google", "apis-google", "feedfetcher-google", "google-read-aloud",
    "bingbot", "bingpreview", "msnbot", "adidxbot", "duckduckbot", "duckassistbot",
    "applebot", "yandex", "baiduspider", "slurp", "facebookexternalhit", "facebookcatalog",
    "meta-externalagent", "twitterbot", "linkedinbot", "pinterestbot", "slackbot",
    "discordbot", "telegrambot", "whatsapp", "seznambot", "qwantbot", "petalbot",
    "sogou", "archive.org_bot", "ia_archiver",
)  # fmt: skip
# Automation traces (`signals.automation` codes) that name a driving framework.
FRAMEWORK_MARKERS: Final = (
    "cdp", "selenium", "webdriver", "puppeteer", "playwright", "phantom", "nightmare",
    "domautomation", "driver",
)  # fmt: skip
HEADLESS_MARKER: Final = "headless"
# Tokens of automation tools in a user agent (lower case) -> (flag, the tool).
AUTOMATION_UA_TOKENS: Final = (
    ("phantomjs", "headless_browser", "PhantomJS"),
    ("slimerjs", "headless_browser", "SlimerJS"),
    ("htmlunit", "headless_browser", "HtmlUnit"),
    (" splash ", "headless_browser", "Splash"),
    ("jsdom/", "automation_framework", "jsdom"),
    ("cypress/", "automation_framework", "Cypress"),
    ("nightmare", "automation_framework", "Nightmare"),
    ("selenium", "automation_framework", "Selenium"),
    ("puppeteer", "automation_framework", "Puppeteer"),
    ("playwright", "automation_framework", "Playwright"),
    ("chrome-lighthouse", "automation_framework", "Lighthouse"),
)
# User agents of real browsers and devices start like this; other clients name themselves.
BROWSER_UA_PREFIXES: Final = ("mozilla/", "opera/")
WEAK_TRACE_SCORE: Final = 0.35
ACTIVE_MS_WITHOUT_INPUT: Final = 60_000
PAGE_VIEWS_WITHOUT_INPUT: Final = 3
VELOCITY_SCORES: Final = {"ip": 0.45, "device": 0.6, "user": 0.5}
_WINDOW_NAMES: Final = {"5m": "5 minutes", "1h": "1 hour", "24h": "24 hours"}
# The VelocityLimits field of each subject's windows, e.g. ip_5m.
_LIMITS: Final = {
    subject: tuple(f"{subject}_{window}" for window, _ in WINDOWS) for subject in VELOCITY_SCORES
}


@dataclass(frozen=True, slots=True)
class BotFinding:
    flag: str
    score: float
    reason: str
    group: str
    bad: bool = True  # poses as a person's browser


def judge_bot(case: Case, datacenter: RiskSignal) -> Bot:
    findings = [
        *_declared(case),
        *_automation(case),
        *_tampering(case),
        *_hardware(case),
        *_behaviour(case),
        *_velocity(case),
    ]
    if datacenter.flag:
        findings.append(
            BotFinding(
                "datacenter_ip", 0.4, f"IP {case.ip} is in a datacenter", "network", bad=False
            )
        )
    return _verdict(findings, case)


def _verdict(findings: list[BotFinding], case: Case) -> Bot:
    strongest: dict[str, float] = {}
    for finding in findings:
        strongest[finding.group] = max(strongest.get(finding.group, 0.0), finding.score)
    score = round(noisy_or(strongest.values()), 3)
    is_bot = score >= case.policy.bot_threshold
    ordered = sorted(findings, key=lambda f: -f.score)
    return Bot(
        score=score,
        is_bot=is_bot,
        flags=list(dict.fromkeys(f.flag for f in ordered)),
        kind=_kind(findings, case) if is_bot else None,
        reasons=[f.reason for f in ordered],
    )


def _kind(findings: list[BotFinding], case: Case) -> BotKind:
    if any(f.bad for f in findings):
        return "bad"
    crawler = _crawler_name(case)  # only a bot that poses as no one's browser needs it
    if crawler and crawler.lower().startswith(GOOD_CRAWLERS):
        return "good"
    return "unknown"


def _crawler_name(case: Case) -> str | None:
    """The name a self-declared crawler gives, from the user agent parse or our own list."""
    agent = case.evidence.user_agent
    if agent.is_crawler and agent.crawler_name:
        return agent.crawler_name
    lowered = (case.session.user_agent or "").lower()
    return next((name for name in GOOD_CRAWLERS if name in lowered), None)


def _declared(case: Case) -> list[BotFinding]:
    """Clients that say what they are in their user agent."""
    user_agent = (case.session.user_agent or "").strip()
    if not user_agent:
        return [BotFinding("missing_user_agent", 0.8, "the request has no user agent", "declared")]
    agent = case.evidence.user_agent
    if agent.is_crawler:
        name = agent.crawler_name or "an unnamed client"
        if agent.device.type == "HTTP client":
            reason = f"the user agent is the HTTP library {name}"
            return [BotFinding("http_library", 0.95, reason, "declared", bad=False)]
        reason = f"the user agent is the crawler {name}"
        return [BotFinding("crawler_user_agent", 0.95, reason, "declared", bad=False)]
    if _names_no_browser(case):
        reason = f"the user agent {user_agent[:60]!r} names no browser or device"
        return [BotFinding("http_library", 0.85, reason, "declared", bad=False)]
    return []


def _names_no_browser(case: Case) -> bool:
    agent = case.evidence.user_agent
    user_agent = (case.session.user_agent or "").strip().lower()
    device = agent.device
    return (
        not user_agent.startswith(BROWSER_UA_PREFIXES)
        and device.category in (None, "other")
        and device.platform is None
        and device.brand is None
    )


def _automation(case: Case) -> list[BotFinding]:
    signals = case.session.signals
    codes = [code.lower() for code in signals.automation]
    found: list[BotFinding] = []
    if signals.webdriver or "webdriver" in codes:
        found.append(BotFinding("webdriver", 0.95, "navigator.webdriver is true", "automation"))
    frameworks = [c for c in codes if c != "webdriver" and any(m in c for m in FRAMEWORK_MARKERS)]
    if frameworks:
        reason = f"traces of an automation framework: {', '.join(frameworks[:6])}"
        found.append(BotFinding("automation_framework", 0.9, reason, "automation"))
    found.extend(_automation_tokens(case.session.user_agent or ""))
    headless = [c for c in codes if HEADLESS_MARKER in c]
    if case.evidence.user_agent.is_headless or headless:
        detail = ", ".join(headless[:3]) or "the user agent or client hints say HeadlessChrome"
        found.append(
            BotFinding("headless_browser", 0.9, f"a headless browser ({detail})", "headless")
        )
    weak = [c for c in codes if c != "webdriver" and c not in frameworks and c not in headless]
    for code in weak[:8]:
        found.append(
            BotFinding(
                "automation_traces", WEAK_TRACE_SCORE, f"automation trace: {code}", f"trace:{code}"
            )
        )
    return found


# Pure and keyed by the user agent, of which a few thousand make up nearly all traffic.
@lru_cache(maxsize=2048)
def _automation_tokens(user_agent: str) -> tuple[BotFinding, ...]:
    lowered = f" {user_agent.lower()} "
    return tuple(
        BotFinding(flag, 0.9, f"the user agent names the automation tool {tool}", "automation")
        for token, flag, tool in AUTOMATION_UA_TOKENS
        if token in lowered
    )


def _tampering(case: Case) -> list[BotFinding]:
    described = case.self_description
    found = [
        BotFinding("ua_client_hints_mismatch", 0.6, reason, "tampering")
        for reason in described.hints_mismatches
    ]
    if described.platform_mismatch:
        found.append(
            BotFinding("ua_platform_mismatch", 0.6, described.platform_mismatch, "tampering")
        )
    return found


def _hardware(case: Case) -> list[BotFinding]:
    signals = case.session.signals
    found = [
        BotFinding("impossible_hardware", 0.6, reason, "hardware")
        for reason in impossible_hardware(signals)
    ]
    # Hardware that contradicts the kind of device the user agent claims is one more sign
    # of a changed user agent: it counts with the other tampering, not on its own.
    found.extend(
        BotFinding("ua_hardware_mismatch", 0.6, reason, "tampering")
        for reason in hardware_contradicts_device(signals, case.session.device.category)
    )
    renderer = software_renderer(signals.gpu_renderer)
    if renderer:
        found.append(
            BotFinding("software_renderer", 0.4, f"the GPU is {renderer}", "renderer", bad=False)
        )
    return found


def _behaviour(case: Case) -> list[BotFinding]:
    behaviour = case.session.behaviour
    inputs = (
        behaviour.mouse_num_events
        + behaviour.click_num_events
        + behaviour.keyboard_num_events
        + behaviour.touch_num_events
        + behaviour.scroll_num_events
    )
    long_enough = (
        behaviour.active_ms >= ACTIVE_MS_WITHOUT_INPUT
        or behaviour.page_views >= PAGE_VIEWS_WITHOUT_INPUT
    )
    if inputs or not long_enough:
        return []
    reason = (
        f"no mouse, touch, keyboard or scroll input in {behaviour.active_ms // 1000} s "
        f"and {behaviour.page_views} page view{'s' if behaviour.page_views != 1 else ''}"
    )
    return [BotFinding("no_human_interaction", 0.6, reason, "behaviour")]


def _velocity(case: Case) -> list[BotFinding]:
    limits = case.policy.velocity
    found = []
    for subject, counts in case.history.velocity.items():
        for (window, _), name, count in zip(WINDOWS, _LIMITS[subject], counts, strict=False):
            limit: int = getattr(limits, name)
            if count > limit:
                who = f"IP {case.ip}" if subject == "ip" else f"this {subject}"
                reason = f"{count} sessions from {who} in {_WINDOW_NAMES[window]} (limit {limit})"
                found.append(
                    BotFinding(
                        "high_velocity", VELOCITY_SCORES[subject], reason, "velocity",
                        bad=False,
                    )
                )  # fmt: skip
                break
    return found
