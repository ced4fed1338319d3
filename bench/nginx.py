"""The HTTP floor: nginx serving one static JSON file over loopback.

nginx runs in the foreground (`daemon off`) from a configuration of its own in
the run's temporary directory: pid file, logs and temp paths all live there, so
nothing on the machine's own nginx setup is read or touched. Every path under
`/` answers with the same file, so the reference takes the very requests the
GET benchmark sends to our server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from bench.procs import Child, Processes, wait_http

DOC_NAME = "session.json"


class NginxMissing(RuntimeError):
    pass


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise NginxMissing("nginx is not installed (run: bash scripts/bench-deps.sh)")
    return found


def nginx_version() -> str:
    result = subprocess.run(
        [nginx_binary(), "-v"], capture_output=True, text=True, check=False, timeout=10
    )
    return (result.stderr or result.stdout).strip().removeprefix("nginx version: ")


def config_text(root: Path, port: int, workers: int) -> str:
    # As root, nginx would hand requests to `nobody`, who cannot enter our 0700
    # temporary directory; keep the workers as the user running the benchmark.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""\
daemon off;
master_process on;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
{user}
events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    types {{ application/json json; }}
    default_type application/json;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
    open_file_cache max=16 inactive=60s;
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;

    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
        location / {{
            try_files /{DOC_NAME} =404;
        }}
    }}
}}
"""


def start_nginx(processes: Processes, root: Path, port: int, workers: int, doc: bytes) -> Child:
    """Serve `doc` on 127.0.0.1:`port` with `workers` worker processes; ready on return."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "www").mkdir(exist_ok=True)
    (root / "www" / DOC_NAME).write_bytes(doc)
    conf = root / "nginx.conf"
    conf.write_text(config_text(root, port, workers))
    argv = [nginx_binary(), "-p", f"{root}/", "-e", str(root / "error.log"), "-c", str(conf)]
    child = processes.start("nginx", argv, root / "nginx.out")
    wait_http(f"http://127.0.0.1:{port}/{DOC_NAME}", child, timeout=15)
    return child
