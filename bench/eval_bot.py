"""Bot detection against a labelled corpus: precision, recall and false-positive rate.

    .venv/bin/python -m bench.eval_bot [--corpus bench/data/bot_corpus.json] [--show-misses]

Each entry (a user agent with its request context: IP, headers, browser signals and
behaviour) becomes a session that goes through the real enrichment and judgement, with
no history; `bot.is_bot` is compared with the label. Targets: recall >= 0.98 on
automation and crawlers, false-positive rate <= 0.01 on real browsers.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from sessionscope.config import Settings
from sessionscope.enrich.service import Enricher
from sessionscope.ingest import new_session
from sessionscope.judge.case import Case
from sessionscope.judge.decision import judge
from sessionscope.model import Bot, SessionCreate, Site

CORPUS = Path(__file__).parent / "data" / "bot_corpus.json"
AT_MS = 1_780_000_000_000
SITE = Site(tenant="eval", slug="web", uuid="0", is_default=True, created_at="")
RECALL_TARGET = 0.98
FPR_TARGET = 0.01


@dataclass(frozen=True)
class Scored:
    entry: dict[str, Any]
    bot: Bot

    @property
    def is_bot_label(self) -> bool:
        return self.entry["label"] == "bot"

    @property
    def caught(self) -> bool:
        return bool(self.bot.is_bot)


def request_of(entry: dict[str, Any], contexts: dict[str, Any]) -> dict[str, Any]:
    context = contexts[entry["context"]]
    return {
        "ip": entry["ip"],
        "user_agent": entry["ua"],
        "headers": entry.get("headers", context["headers"]),
        "signals": entry.get("signals", context["signals"]),
        "behaviour": entry.get("behaviour", context["behaviour"]),
    }


def score_all(corpus: dict[str, Any], enricher: Enricher) -> list[Scored]:
    scored = []
    for entry in corpus["entries"]:
        payload = msgspec.convert(request_of(entry, corpus["contexts"]), SessionCreate)
        session = new_session(payload, SITE, 30, AT_MS)
        evidence = enricher.examine(session)
        enricher.apply(session, evidence)
        scored.append(Scored(entry, judge(Case(session, evidence)).bot))
    return scored


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def show(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_groups(scored: list[Scored]) -> None:
    print(f"{'group':<14}{'label':<7}{'n':>5}{'judged bot':>12}{'rate':>8}  kinds")
    groups = Counter((s.entry["group"], s.entry["label"]) for s in scored)
    for (group, label), count in sorted(groups.items(), key=lambda g: (g[0][1], g[0][0])):
        members = [s for s in scored if (s.entry["group"], s.entry["label"]) == (group, label)]
        caught = sum(s.caught for s in members)
        kinds = dict(Counter(s.bot.kind for s in members if s.caught))
        print(f"{group:<14}{label:<7}{count:>5}{caught:>12}{caught / count:>8.3f}  {kinds or ''}")


def print_misses(scored: list[Scored]) -> None:
    for s in scored:
        if s.caught != s.is_bot_label:
            score = s.bot.score or 0.0
            print(f"  miss: {s.entry['label']:<5} {score:.2f} {s.bot.flags} {s.entry['ua'][:70]!r}")


def verdict(name: str, value: float | None, target: str, passed: bool) -> None:
    print(f"{name:<10}{show(value)}  (target {target}) {'PASS' if passed else 'MISS'}")


def report(scored: list[Scored], show_misses: bool) -> bool:
    tp = sum(s.is_bot_label and s.caught for s in scored)
    fp = sum(not s.is_bot_label and s.caught for s in scored)
    fn = sum(s.is_bot_label and not s.caught for s in scored)
    humans = sum(not s.is_bot_label for s in scored)
    precision, recall, fpr = ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(fp, humans)
    print(f"corpus: {len(scored)} user agents ({tp + fn} bots, {humans} real browsers)")
    print_groups(scored)
    recall_ok = recall is not None and recall >= RECALL_TARGET
    fpr_ok = fpr is not None and fpr <= FPR_TARGET
    print(f"{'precision':<10}{show(precision)}")
    verdict("recall", recall, f">= {RECALL_TARGET}", recall_ok)
    verdict("FPR", fpr, f"<= {FPR_TARGET}", fpr_ok)
    if show_misses:
        print_misses(scored)
    return recall_ok and fpr_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    corpus = json.loads(args.corpus.read_text(encoding="utf-8"))
    enricher = Enricher.from_settings(Settings())
    enricher.warm()
    passed = report(score_all(corpus, enricher), args.show_misses)
    raise SystemExit(0 if passed else 1)


if __name__ == "__main__":
    main()
