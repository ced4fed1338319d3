"""The command line against a real store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.server import cli


def test_init_keys_and_sites(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    made = json.loads(cli(url, "init", "--tenant", "t1", "--site", "web", "--json").stdout)
    assert set(made) == {
        "tenant",
        "site",
        "site_uuid",
        "secret_key",
        "publishable_key",
        "hmac_access_key",
        "hmac_secret_key",
    }
    again = cli(url, "init", "--tenant", "t1", "--site", "web", "--json", check=False)
    assert again.returncode == 1 and "exists already" in again.stderr
    cli(url, "sites", "create", "t1", "shop", "--default")
    sites = json.loads(cli(url, "sites", "list", "t1", "--json").stdout)
    assert {s["slug"]: s["is_default"] for s in sites} == {"shop": True, "web": False}
    issued = json.loads(
        cli(
            url,
            "keys",
            "create",
            "--tenant",
            "t1",
            "--site",
            "shop",
            "--kind",
            "publishable",
            "--origin",
            "https://a.example",
            "--json",
        ).stdout
    )
    assert issued["key"].startswith("ss_pk_") and issued["origins"] == ["https://a.example"]
    listed = json.loads(cli(url, "keys", "list", "--tenant", "t1", "--json").stdout)
    assert len(listed) == 4 and all("digest" not in k for k in listed)
    cli(url, "keys", "revoke", issued["id"], "--tenant", "t1")
    revoked = cli(url, "keys", "revoke", issued["id"], "--tenant", "t1", check=False)
    assert revoked.returncode == 2 and "no live key" in revoked.stderr
    tenants = json.loads(cli(url, "tenants", "list", "--json").stdout)
    assert [t["slug"] for t in tenants] == ["t1"]


def test_bad_settings_stop_with_one_line_naming_the_variable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in (
        ("SESSIONSCOPE_PORT", "eighty"),
        ("SESSIONSCOPE_WORKERS", "0"),
        ("SESSIONSCOPE_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("SESSIONSCOPE_REDIS_URL", "http://x"),
        ("SESSIONSCOPE_MAX_BODY_BYTES", "12"),
        ("SESSIONSCOPE_DURABILITY", "maybe"),
    ):
        done = cli(url, "serve", env={name: value}, check=False)
        assert done.returncode == 2, (name, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and name in lines[0], done.stderr
    bad_url = cli("mysql://x", "migrate", check=False)
    assert bad_url.returncode == 2 and "SESSIONSCOPE_DATABASE_URL" in bad_url.stderr


def test_bad_options_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    cli(url, "tenants", "create", "t2")
    wrong_kind = cli(url, "keys", "create", "--tenant", "t2", "--kind", "root", check=False)
    assert wrong_kind.returncode == 2 and "--kind" in wrong_kind.stderr
    no_tenant = cli(url, "keys", "create", "--tenant", "nobody", "--kind", "secret", check=False)
    assert no_tenant.returncode == 1 and "no tenant" in no_tenant.stderr
    bad_slug = cli(url, "tenants", "create", "Bad Slug", check=False)
    assert bad_slug.returncode == 1 and "must be" in bad_slug.stderr


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli(url, "migrate").returncode == 0
    assert cli(url, "migrate").returncode == 0
