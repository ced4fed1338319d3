"""Test groups: each visitor's variant of each of the site's experiments.

Assignment is a stable hash of the site, the experiment and the visitor (user, else
device, else session), so the same user lands in the same variant on every session and
on every instance, with nothing stored but the answer.
"""

from __future__ import annotations

import hashlib

from sessionscope.lifecycle import visitor_key
from sessionscope.model import Experiment, Session


def variant_for(experiment: Experiment, site_key: str, visitor: str) -> str:
    """The variant `visitor` falls in: a point on [0, total weight) picked by the hash."""
    seed = f"{site_key}\x1f{experiment.name}\x1f{visitor}".encode()
    digest = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big")
    total = sum(variant.weight for variant in experiment.variants)
    point = (digest * total) >> 64
    for variant in experiment.variants:
        if point < variant.weight:
            return variant.name
        point -= variant.weight
    raise ValueError(f"experiment {experiment.name!r} has no weight")


def assign_test_groups(session: Session, experiments: list[Experiment], keep_given: bool) -> None:
    """Write the visitor's variants into `test_groups`; other keys stay as the site set them.

    With `keep_given`, an experiment the site already filled in (at creation) is left alone.
    """
    site_key = f"{session.tenant}|{session.site}"
    visitor = visitor_key(session)
    for experiment in experiments:
        if keep_given and experiment.name in session.test_groups:
            continue
        session.test_groups[experiment.name] = variant_for(experiment, site_key, visitor)
