"""Judgement: risk signals, bot score, impossible travel and the decision (docs/signals.md)."""
