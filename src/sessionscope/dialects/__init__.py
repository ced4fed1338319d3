"""Compatible read APIs: each module serves one vendor's "get session" API from the native
document, with that vendor's paths, auth scheme, field names and error envelope."""

from __future__ import annotations

from sessionscope.dialects.isnotai import IsnotaiApi
from sessionscope.dialects.mobilenext import MobileNextApi
from sessionscope.dialects.verisoul import VerisoulApi
from sessionscope.dialects.zephr import ZephrApi
from sessionscope.http.router import Router
from sessionscope.http.state import AppState


def compat_routers(state: AppState) -> list[Router]:
    """One router per compatible API, each under its own `/compat/<name>` prefix."""
    return [ZephrApi(state), VerisoulApi(state), MobileNextApi(state), IsnotaiApi(state)]
