"""Native API authentication: secret keys in x-api-key or Authorization: Bearer."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sessionscope.auth.keys import Principal
from sessionscope.http.errors import ApiError
from sessionscope.http.state import AppState
from sessionscope.model import Scope, Site


def presented_token(header: Callable[[str], str | None]) -> str | None:
    """The key in x-api-key or Authorization: Bearer; `header` looks a header up by name."""
    token = header("x-api-key")
    if token:
        return token.strip()
    scheme, _, value = (header("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def lets_through(principal: Principal | None, scope: Scope) -> bool:
    """Whether `authenticate` lets this caller through for `scope`."""
    return principal is not None and principal.kind == "secret" and principal.allows(scope)


async def authenticate(state: AppState, headers: Mapping[str, str], scope: Scope) -> Principal:
    token = presented_token(headers.get)
    if token is None:
        raise ApiError(
            401, "unauthorized", "send a secret key in x-api-key or Authorization: Bearer"
        )
    principal = await state.verifier.principal(token)
    if principal is None or principal.kind != "secret":
        raise ApiError(401, "unauthorized", "the key is unknown, revoked, or not a secret key")
    if not principal.allows(scope):
        raise ApiError(
            403, "forbidden", f"the key lacks the {scope!r} scope", {"required_scope": scope}
        )
    return principal


def visible_sites(principal: Principal) -> tuple[str, ...] | None:
    """Sites a key may read: its own site, or None for every site of its tenant."""
    return (principal.site,) if principal.site is not None else None


async def site_for(state: AppState, principal: Principal, requested: str | None) -> Site:
    """The site a request acts on: the key's own, the requested one, else the default."""
    if principal.site is not None and requested not in (None, principal.site):
        raise ApiError(
            403, "site_forbidden", f"the key is bound to site {principal.site!r}", {"field": "site"}
        )
    slug = principal.site or requested
    site = (
        await state.store.get_site(principal.tenant, slug)
        if slug is not None
        else await state.store.get_default_site(principal.tenant)
    )
    if site is None:
        name = slug or "default"
        raise ApiError(404, "site_not_found", f"no site {name!r} in this tenant", {"field": "site"})
    return site
