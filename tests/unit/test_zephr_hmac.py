"""ZephrHmacHttp signing and verification (pure)."""

from __future__ import annotations

import hashlib

from sessionscope.auth.zephr_hmac import (
    MAX_SKEW_MS,
    HmacCredentials,
    authorization,
    parse_authorization,
    signature,
    verify,
    within_skew,
)

SECRET = "ss_hs_secret"
TS = 1_707_230_240_685


def test_signature_is_the_plain_sha256_of_the_documented_concatenation() -> None:
    expected = hashlib.sha256(f"{SECRET}{{}}/v3/sessions/abcx=1POST{TS}n1".encode()).hexdigest()
    assert signature(SECRET, "{}", "/v3/sessions/abc", "x=1", "post", TS, "n1") == expected
    assert expected == expected.lower()


def test_header_round_trips_through_the_parser() -> None:
    header = authorization(
        "ak1", SECRET, "GET", "/v3/users", query="?a=b", timestamp_ms=TS, nonce="n"
    )
    parsed = parse_authorization(header)
    assert parsed == HmacCredentials(
        "ak1", TS, "n", signature(SECRET, "", "/v3/users", "a=b", "GET", TS, "n")
    )


def test_malformed_headers_are_refused() -> None:
    good = authorization("ak", SECRET, "GET", "/p", timestamp_ms=TS, nonce="n")
    assert parse_authorization(good) is not None
    for bad in (
        None,
        "",
        "Bearer abc",
        "ZEPHR-HMAC-SHA256 ak:123:nonce",
        "ZEPHR-HMAC-SHA256 ak:notanumber:n:h",
        "ZEPHR-HMAC-SHA256 :123:n:h",
        "ZEPHR-HMAC-SHA256 ak:123::h",
        "ZEPHR-HMAC-SHA256 ak:123:n:h:extra",
        f"ZEPHR-HMAC-SHA256 ak:123:{'n' * 129}:h",
        "ZEPHR-HMAC-SHA256 ak:12345678901234567:n:h",
    ):
        assert parse_authorization(bad) is None, bad


def test_both_query_placements_verify() -> None:
    apart = parse_authorization(
        authorization("ak", SECRET, "GET", "/v3/users", query="x=1", timestamp_ms=TS, nonce="a")
    )
    folded = parse_authorization(
        authorization("ak", SECRET, "GET", "/v3/users?x=1", timestamp_ms=TS, nonce="b")
    )
    assert apart is not None and folded is not None
    assert verify(apart, SECRET, "GET", ["/v3/users"], "x=1")
    assert verify(folded, SECRET, "GET", ["/v3/users"], "x=1")


def test_any_change_to_the_request_fails_verification() -> None:
    creds = parse_authorization(
        authorization(
            "ak", SECRET, "GET", "/v3/sessions/1", query="a=1", timestamp_ms=TS, nonce="n"
        )
    )
    assert creds is not None
    assert verify(creds, SECRET, "GET", ["/v3/sessions/1"], "a=1")
    assert not verify(creds, "other-secret", "GET", ["/v3/sessions/1"], "a=1")
    assert not verify(creds, SECRET, "POST", ["/v3/sessions/1"], "a=1")
    assert not verify(creds, SECRET, "GET", ["/v3/sessions/2"], "a=1")
    assert not verify(creds, SECRET, "GET", ["/v3/sessions/1"], "a=2")
    assert not verify(creds, SECRET, "GET", ["/v3/sessions/1"], "a=1", body="x")
    replaced = HmacCredentials("ak", TS + 1, "n", creds.digest)
    assert not verify(replaced, SECRET, "GET", ["/v3/sessions/1"], "a=1")


def test_any_of_several_accepted_paths_verifies() -> None:
    creds = parse_authorization(
        authorization("ak", SECRET, "GET", "/v3/sessions/1", timestamp_ms=TS, nonce="n")
    )
    assert creds is not None
    assert verify(creds, SECRET, "GET", ["/compat/zephr/v3/sessions/1", "/v3/sessions/1"], "")
    assert not verify(creds, SECRET, "GET", ["/compat/zephr/v3/sessions/1"], "")


def test_uppercase_hex_from_a_client_is_accepted() -> None:
    header = authorization("ak", SECRET, "GET", "/p", timestamp_ms=TS, nonce="n")
    head, _, digest = header.rpartition(":")
    creds = parse_authorization(f"{head}:{digest.upper()}")
    assert creds is not None
    assert verify(creds, SECRET, "GET", ["/p"], "")


def test_skew_window_is_five_minutes_either_way() -> None:
    assert MAX_SKEW_MS == 300_000
    assert within_skew(TS, TS + MAX_SKEW_MS)
    assert within_skew(TS, TS - MAX_SKEW_MS)
    assert not within_skew(TS, TS + MAX_SKEW_MS + 1)
    assert not within_skew(TS, TS - MAX_SKEW_MS - 1)
