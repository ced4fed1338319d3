"""`sessionscope sign`: the ZephrHmacHttp Authorization header for one request."""

from __future__ import annotations

import secrets
from typing import Annotated

import typer

from sessionscope.auth.zephr_hmac import authorization
from sessionscope.cli.common import CliFailure
from sessionscope.clock import now_ms


def sign(
    method: Annotated[str, typer.Argument(help="HTTP method, e.g. GET")],
    path: Annotated[
        str,
        typer.Argument(help="request path, e.g. /compat/zephr/v3/sessions/ID (may end in ?query)"),
    ],
    access_key: Annotated[
        str,
        typer.Option(envvar="SESSIONSCOPE_HMAC_ACCESS_KEY", help="the key pair's access key"),
    ],
    secret_key: Annotated[
        str,
        typer.Option(
            envvar="SESSIONSCOPE_HMAC_SECRET_KEY",
            help="the key pair's secret key",
            show_envvar=True,
        ),
    ],
    body: Annotated[str, typer.Option(help="request body, exactly as it will be sent")] = "",
    query: Annotated[str | None, typer.Option(help="query string without the leading '?'")] = None,
) -> None:
    """Print `Authorization: ZEPHR-HMAC-SHA256 ...` for one request, e.g. for curl -H.

    The header holds a fresh nonce and the current time: it is good for one request
    within five minutes.
    """
    bare_path, mark, folded = path.partition("?")
    if mark and query is not None:
        raise CliFailure("give the query either after '?' in PATH or with --query, not both")
    value = authorization(
        access_key.strip(),
        secret_key.strip(),
        method.upper(),
        bare_path,
        query=folded if mark else (query or ""),
        body=body,
        timestamp_ms=now_ms(),
        nonce=secrets.token_hex(16),
    )
    print(f"Authorization: {value}")
