"""`sessionscope purge`: one retention pass, as the service runs every few minutes."""

from __future__ import annotations

import json

from sessionscope.cli.common import AsJson, DatabaseUrl, out, run_with_store
from sessionscope.clock import now_ms
from sessionscope.purge import PurgeReport
from sessionscope.purge import purge as purge_pass


def purge(as_json: AsJson = False, database_url: DatabaseUrl = None) -> None:
    """Delete sessions past their site's retention, and usage of ended meter periods."""
    report: PurgeReport = run_with_store(database_url, lambda store, _: purge_pass(store, now_ms()))
    if as_json:
        print(json.dumps({"sessions": report.sessions, "usage_rows": report.usage_rows}))
    else:
        out.print(f"purged {report.sessions} sessions and {report.usage_rows} usage rows")
