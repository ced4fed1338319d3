"""Rows of the access model as the store keeps them (issue 7): definitions and grants.

Definitions are JSON documents keyed by (tenant, site, kind, id); the access package
decodes them into its types. Grants are rows, so that a user's grants are one index read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AccessRecord:
    tenant: str
    site: str
    kind: str  # entitlement | bundle | meter | credit | defaults
    id: str
    doc: str  # the definition as JSON
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class GrantRecord:
    tenant: str
    site: str
    id: str
    user_id: str
    bundle_id: str
    expires_ms: int | None
    created_at: str


@dataclass(frozen=True, slots=True)
class GrantFilter:
    """Which grants of a site to list; each filter left None matches everything."""

    tenant: str
    site: str
    user_id: str | None = None
    bundle_id: str | None = None
