"""Command line: serve, migrate, init, demo, tenants, sites, keys, master-key."""

from __future__ import annotations

import sys

import typer

from sessionscope import tenancy
from sessionscope.auth.secretbox import MasterKeyError
from sessionscope.cli import access as access_commands
from sessionscope.cli import demo as demo_commands
from sessionscope.cli import lists as list_commands
from sessionscope.cli import purge as purge_commands
from sessionscope.cli import server, sign
from sessionscope.cli import tenants as tenancy_commands
from sessionscope.cli.common import CliFailure, err
from sessionscope.config import ConfigError
from sessionscope.enrich.geo import GeoDatabaseError
from sessionscope.enrich.iplists import IPListError
from sessionscope.store.base import StoreError

app = typer.Typer(help="Sessionscope: self-hosted session intelligence.", no_args_is_help=True)
app.command()(server.migrate)
app.command()(server.serve)
app.command()(server.demo)
app.command("demo-key")(demo_commands.demo_key)
app.command("master-key")(server.master_key)
app.command()(tenancy_commands.init)
app.command()(sign.sign)
app.add_typer(tenancy_commands.tenants_app, name="tenants")
app.add_typer(tenancy_commands.sites_app, name="sites")
app.add_typer(tenancy_commands.keys_app, name="keys")
app.add_typer(list_commands.lists_app, name="lists")
app.command()(purge_commands.purge)
app.add_typer(access_commands.access_app, name="access")


def main() -> None:
    try:
        app()
    except (ConfigError, MasterKeyError, CliFailure, GeoDatabaseError, IPListError) as error:
        err.print(f"sessionscope: {error}")
        sys.exit(2)
    except tenancy.TenancyError as error:
        err.print(f"sessionscope: {error.message}")
        sys.exit(1)
    except StoreError as error:
        err.print(f"sessionscope: store error: {error}")
        sys.exit(1)
