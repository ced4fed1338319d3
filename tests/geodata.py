"""Where MaxMind's published test databases are: ../shared/data/geoip-test beside the clone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TEST_DB_DIR = Path(
    os.environ.get("SESSIONSCOPE_GEOIP_TEST_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "geoip-test"
)
CITY = TEST_DB_DIR / "GeoIP2-City-Test.mmdb"
LITE_CITY = TEST_DB_DIR / "GeoLite2-City-Test.mmdb"
COUNTRY = TEST_DB_DIR / "GeoIP2-Country-Test.mmdb"
ASN = TEST_DB_DIR / "GeoLite2-ASN-Test.mmdb"
ISP = TEST_DB_DIR / "GeoIP2-ISP-Test.mmdb"
CONNECTION = TEST_DB_DIR / "GeoIP2-Connection-Type-Test.mmdb"
ANONYMOUS = TEST_DB_DIR / "GeoIP2-Anonymous-IP-Test.mmdb"


def require_test_databases() -> None:
    if not CITY.exists():
        pytest.fail(
            f"MaxMind test databases not found in {TEST_DB_DIR} (set SESSIONSCOPE_GEOIP_TEST_DIR)"
        )


def geoip_env() -> dict[str, str]:
    """Server settings that point at every test database."""
    require_test_databases()
    return {
        "SESSIONSCOPE_GEOIP_CITY": str(CITY),
        "SESSIONSCOPE_GEOIP_ASN": str(ASN),
        "SESSIONSCOPE_GEOIP_ISP": str(ISP),
        "SESSIONSCOPE_GEOIP_CONNECTION_TYPE": str(CONNECTION),
        "SESSIONSCOPE_GEOIP_ANONYMOUS": str(ANONYMOUS),
    }
