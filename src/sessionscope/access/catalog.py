"""A site's access definitions in memory, and what a set of bundles holds.

A catalog is read whole (a site has tens of definitions, not thousands) and is only a
view: references to definitions that no longer exist are skipped, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

import msgspec

from sessionscope.access.model import (
    DEFAULTS_KIND,
    STORED_KIND,
    AccessDefaults,
    Bundle,
    Credit,
    Definition,
    Entitlement,
    Meter,
)
from sessionscope.store.access_records import AccessRecord

TYPE_OF_STORED: Final[dict[str, type[Definition]]] = {
    stored: kind for kind, stored in STORED_KIND.items()
}


def decode_definition(record: AccessRecord) -> Definition:
    return msgspec.json.decode(record.doc, type=TYPE_OF_STORED[record.kind])


@dataclass(frozen=True, slots=True)
class Holdings:
    """What some bundles give, nested bundles included; meters and credits in id order."""

    bundles: tuple[str, ...]
    direct: dict[str, str]  # entitlement → the (first) bundle that gives it outright
    meters: tuple[str, ...]
    credits: tuple[str, ...]


@dataclass(slots=True)
class Catalog:
    entitlements: dict[str, Entitlement] = field(default_factory=dict)
    bundles: dict[str, Bundle] = field(default_factory=dict)
    meters: dict[str, Meter] = field(default_factory=dict)
    credits: dict[str, Credit] = field(default_factory=dict)
    defaults: AccessDefaults = field(default_factory=AccessDefaults)

    @classmethod
    def from_records(cls, records: Iterable[AccessRecord]) -> Catalog:
        catalog = cls()
        for record in records:
            if record.kind == DEFAULTS_KIND:
                catalog.defaults = msgspec.json.decode(record.doc, type=AccessDefaults)
            elif record.kind in TYPE_OF_STORED:
                catalog.add(decode_definition(record))
        return catalog

    def add(self, definition: Definition) -> None:
        assert definition.id is not None, "stored definitions have ids"
        if isinstance(definition, Entitlement):
            self.entitlements[definition.id] = definition
        elif isinstance(definition, Bundle):
            self.bundles[definition.id] = definition
        elif isinstance(definition, Meter):
            self.meters[definition.id] = definition
        else:
            self.credits[definition.id] = definition

    def table(self, kind: type[Definition]) -> Mapping[str, Definition]:
        tables: dict[type[Definition], Mapping[str, Definition]] = {
            Entitlement: self.entitlements,
            Bundle: self.bundles,
            Meter: self.meters,
            Credit: self.credits,
        }
        return tables[kind]

    def everything(self) -> Iterator[Definition]:
        for kind in (Entitlement, Meter, Credit, Bundle):
            yield from self.table(kind).values()

    def is_empty(self) -> bool:
        return not (self.entitlements or self.bundles or self.meters or self.credits)

    def expand(self, bundle_ids: Iterable[str]) -> Holdings:
        """Everything the bundles give, walking nested bundles once each."""
        reached: list[str] = []
        direct: dict[str, str] = {}
        meters: set[str] = set()
        credits: set[str] = set()
        pending = list(bundle_ids)
        while pending:
            bundle = self.bundles.get(pending.pop(0))
            if bundle is None or bundle.id in reached:
                continue
            assert bundle.id is not None
            reached.append(bundle.id)
            for entitlement in bundle.entitlements:
                direct.setdefault(entitlement, bundle.id)
            meters.update(m for m in bundle.meters if m in self.meters)
            credits.update(c for c in bundle.credits if c in self.credits)
            pending.extend(bundle.bundles)
        return Holdings(tuple(reached), direct, tuple(sorted(meters)), tuple(sorted(credits)))

    def cycle_through(self, bundle: Bundle) -> list[str] | None:
        """A path of nested bundles that leads from `bundle` back to itself, if any."""
        assert bundle.id is not None
        start = bundle.id
        graph = {**{k: v.bundles for k, v in self.bundles.items()}, start: bundle.bundles}
        trail: list[str] = [start]
        seen: set[str] = set()

        def walk(node: str) -> bool:
            for child in graph.get(node, []):
                if child == start:
                    trail.append(child)
                    return True
                if child in seen:
                    continue
                seen.add(child)
                trail.append(child)
                if walk(child):
                    return True
                trail.pop()
            return False

        return trail if walk(start) else None

    def referrers(self, kind: type[Definition], object_id: str) -> list[str]:
        """Definitions (as `kind:id`) that name the given one; `defaults` when they do."""
        attribute = _NAMED_IN[kind]
        found = [
            f"{STORED_KIND[type(other)]}:{other.id}"
            for other in self.everything()
            if object_id in getattr(other, attribute, ())
        ]
        if kind is Bundle and object_id in (self.defaults.anonymous, self.defaults.registered):
            found.append("defaults")
        return found


# The list of a definition that names other definitions of each kind.
_NAMED_IN: Final[dict[type[Definition], str]] = {
    Entitlement: "entitlements",
    Bundle: "bundles",
    Meter: "meters",
    Credit: "credits",
}
