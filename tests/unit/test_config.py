from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from sessionscope.config import ConfigError, Settings, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///data/sessionscope.db"
    assert settings.port == 8080 and settings.redis_url is None


def test_environment_values_are_typed() -> None:
    settings = load_settings(
        {
            "SESSIONSCOPE_PORT": "9000",
            "SESSIONSCOPE_WORKERS": "2",
            "SESSIONSCOPE_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
            "SESSIONSCOPE_DATABASE_URL": "postgresql://u@h/db",
            "SESSIONSCOPE_REDIS_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert settings.port == 9000 and settings.workers == 2
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SESSIONSCOPE_PORT", "0"),
        ("SESSIONSCOPE_PORT", "x"),
        ("SESSIONSCOPE_WORKERS", "-1"),
        ("SESSIONSCOPE_DATABASE_URL", "sqlite://"),
        ("SESSIONSCOPE_DATABASE_URL", "mysql://h/d"),
        ("SESSIONSCOPE_TRUSTED_PROXIES", "nonsense"),
        ("SESSIONSCOPE_KEY_CACHE_SECONDS", "soon"),
        ("SESSIONSCOPE_HOST", " "),
        ("SESSIONSCOPE_DURABILITY", "paranoid"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    assert str(caught.value).startswith(f"{name}=")
    assert "\n" not in str(caught.value)


def test_toml_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "sessionscope.toml"
    path.write_text('port = 7000\nhost = "0.0.0.0"\ntrusted_proxies = ["10.0.0.0/8"]\n')
    settings = load_settings({"SESSIONSCOPE_CONFIG": str(path), "SESSIONSCOPE_PORT": "7001"})
    assert settings.port == 7001 and settings.host == "0.0.0.0"
    assert settings.trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"),)


def test_toml_file_with_unknown_setting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("colour = 'blue'\n")
    with pytest.raises(ConfigError, match="unknown settings colour"):
        load_settings({"SESSIONSCOPE_CONFIG": str(path)})
