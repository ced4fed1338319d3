"""Feedback: a site labels its sessions (fraud, legit, bot, human), and learns how well
the verdicts agree with its labels.

A label feeds `recent_fraud_ip` (sessions labelled fraud count against their IP and its
prefix) and the statistics. Verdicts are compared as they stand now, so re-judging a
session with new evidence shows in the statistics.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from sessionscope.clock import ms_to_rfc3339, now_ms, rfc3339_to_ms
from sessionscope.ipprefix import ip_prefix
from sessionscope.judge.records import FeedbackLabel, FeedbackRecord, VerdictCount
from sessionscope.model import Decision, Session
from sessionscope.store.base import Store

_decoder = msgspec.json.Decoder(Session)
RISK_POSITIVE, RISK_NEGATIVE = "fraud", "legit"
BOT_POSITIVE, BOT_NEGATIVE = "bot", "human"
Caught = Callable[[VerdictCount], bool]  # whether the verdict called it positive


class FeedbackCreate(Struct, forbid_unknown_fields=True, kw_only=True):
    """A label for one session; a later label replaces an earlier one."""

    label: FeedbackLabel
    note: Annotated[str, Meta(max_length=1024)] | None = None


class FeedbackView(Struct, kw_only=True):
    session_id: str
    site: str
    label: FeedbackLabel
    note: str | None
    labelled_at: str
    decision: Decision | None  # the session's verdict when it was labelled
    is_bot: bool | None


class VerdictScore(Struct, kw_only=True):
    """Verdicts against labels: a positive label is `fraud` (or `bot`), a negative one
    `legit` (or `human`). Precision and recall are null where their denominator is 0."""

    labelled: int
    true_positives: int
    false_positives: int
    false_negatives: int
    true_negatives: int
    precision: float | None
    recall: float | None


class SiteFeedbackStats(Struct, kw_only=True):
    site: str
    labels: dict[str, int]
    fake: VerdictScore  # decision `fake` against fraud / legit
    flagged: VerdictScore  # decision `suspicious` or `fake` against fraud / legit
    bot: VerdictScore  # `bot.is_bot` against bot / human


class FeedbackStats(Struct, kw_only=True):
    data: list[SiteFeedbackStats]
    since: str | None
    until: str | None


async def label_session(
    store: Store, tenant: str, session_id: str, sites: tuple[str, ...] | None, body: FeedbackCreate
) -> FeedbackView | None:
    """Store the label; None when the tenant has no such session visible to the caller."""
    stored = await store.get_session(tenant, session_id, sites)
    if stored is None:
        return None
    session = _decoder.decode(stored.doc)
    labelled_ms = now_ms()
    await store.save_feedback(
        FeedbackRecord(
            tenant=tenant,
            session_id=session.id,
            site=session.site,
            label=body.label,
            note=body.note,
            ip=session.ip,
            ip_prefix=ip_prefix(session.ip),
            session_created_ms=rfc3339_to_ms(session.created_at),
            labelled_ms=labelled_ms,
        )
    )
    return FeedbackView(
        session_id=session.id,
        site=session.site,
        label=body.label,
        note=body.note,
        labelled_at=ms_to_rfc3339(labelled_ms),
        decision=session.risk.decision,
        is_bot=session.bot.is_bot,
    )


def site_stats(site: str, counts: list[VerdictCount]) -> SiteFeedbackStats:
    mine = [count for count in counts if count.site == site]
    labels: dict[str, int] = {}
    for count in mine:
        labels[count.label] = labels.get(count.label, 0) + count.count
    return SiteFeedbackStats(
        site=site,
        labels=labels,
        fake=score(mine, RISK_POSITIVE, RISK_NEGATIVE, lambda c: c.decision == "fake"),
        flagged=score(
            mine, RISK_POSITIVE, RISK_NEGATIVE, lambda c: c.decision in ("suspicious", "fake")
        ),
        bot=score(mine, BOT_POSITIVE, BOT_NEGATIVE, lambda c: c.is_bot is True),
    )


def score(counts: list[VerdictCount], positive: str, negative: str, caught: Caught) -> VerdictScore:
    cells = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for count in counts:
        if count.label in (positive, negative):
            cells[(count.label == positive, caught(count))] += count.count
    tp, fn = cells[(True, True)], cells[(True, False)]
    fp, tn = cells[(False, True)], cells[(False, False)]
    return VerdictScore(
        labelled=tp + fn + fp + tn,
        true_positives=tp,
        false_positives=fp,
        false_negatives=fn,
        true_negatives=tn,
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def feedback_stats(
    store: Store, tenant: str, sites: list[str], since_ms: int | None, until_ms: int | None
) -> FeedbackStats:
    counts = await store.verdict_counts(tenant, tuple(sites), since_ms, until_ms)
    return FeedbackStats(
        data=[site_stats(site, counts) for site in sites],
        since=ms_to_rfc3339(since_ms) if since_ms is not None else None,
        until=ms_to_rfc3339(until_ms) if until_ms is not None else None,
    )
