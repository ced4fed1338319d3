"""A loopback HTTP server answering with the list fixtures of tests/data/lists.

Tests of list downloads point the sources' URLs at it: never at the internet.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "data" / "lists"
FIXTURE_FILES = {
    "tor": "torbulkexitlist",
    "aws": "aws-ip-ranges.json",
    "google_cloud": "gcp-cloud.json",
    "azure": "azure-download.html",
    "oracle": "oracle-public_ip_ranges.json",
    "digitalocean": "digitalocean-google.csv",
    "cloudflare_v4": "cloudflare-ips-v4",
    "cloudflare_v6": "cloudflare-ips-v6",
    "icloud_private_relay": "icloud-egress-ip-ranges.csv",
}


class Responses:
    """What the loopback server answers per path: (status, body)."""

    def __init__(self) -> None:
        self.by_path: dict[str, tuple[int, bytes]] = {}
        for path in FIXTURES.iterdir():
            self.by_path[f"/lists/{path.name}"] = (200, path.read_bytes())


class Server:
    """Serves every fixture at /lists/FILE; `answer` changes what one source gets."""

    def __init__(self) -> None:
        self.responses = Responses()
        responses = self.responses

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = responses.by_path.get(self.path, (404, b"not found"))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def urls(self) -> dict[str, str]:
        return {name: f"{self.base}/lists/{file}" for name, file in FIXTURE_FILES.items()}

    def answer(self, source: str, status: int, body: bytes) -> None:
        self.responses.by_path[f"/lists/{FIXTURE_FILES[source]}"] = (status, body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
