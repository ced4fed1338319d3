"""The demo page's own publishable key, kept sealed so the service can put it in the page.

Keys are stored as digests only, so a page that must carry a key needs it from somewhere:
the demo site gets a dedicated publishable key whose token is also sealed with the master
key (the `secret_ciphertext` HMAC keys use). Nothing is written in plain text; the service
opens it when it serves /demo.
"""

from __future__ import annotations

from sessionscope import tenancy
from sessionscope.auth.keys import issue_key
from sessionscope.auth.secretbox import SecretBox
from sessionscope.clock import ms_to_rfc3339, now_ms
from sessionscope.model import ApiKey
from sessionscope.store.base import Store


def is_demo_key(key: ApiKey, site: str) -> bool:
    return (
        key.kind == "publishable"
        and key.site == site
        and key.revoked_at is None
        and key.secret_ciphertext is not None
    )


async def sealed_demo_keys(store: Store, tenant: str, site: str) -> list[ApiKey]:
    return [key for key in await store.list_keys(tenant) if is_demo_key(key, site)]


async def ensure_demo_key(
    store: Store, box: SecretBox, tenant: str, site: str, origins: list[str]
) -> str:
    """The site's demo key, allowing at least `origins`; made (and older ones revoked)
    when there is none that does."""
    await tenancy.require_site(store, tenant, site)
    allowed = [tenancy.check_origin(origin) for origin in origins]
    for key in await sealed_demo_keys(store, tenant, site):
        if set(allowed) <= set(key.origins):
            return box.open(key.secret_ciphertext or "")
        await store.revoke_key(tenant, key.id, ms_to_rfc3339(now_ms()))
    record, shown = issue_key(tenant=tenant, kind="publishable", site=site, origins=allowed)
    assert shown.key is not None
    record.secret_ciphertext = box.seal(shown.key)
    await store.create_key(record)
    return shown.key


async def open_demo_key(store: Store, box: SecretBox, tenant: str, site: str) -> str | None:
    """The plain demo key of a site, or None when `sessionscope demo` has not made one."""
    keys = await sealed_demo_keys(store, tenant, site)
    if not keys:
        return None
    newest = max(keys, key=lambda key: key.created_at)
    return box.open(newest.secret_ciphertext or "")
