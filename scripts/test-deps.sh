#!/usr/bin/env bash
# Make sure the services and system packages the test suite talks to are here.
# Idempotent: quiet when everything is present. Installs from Debian's packages when not.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_postgres() {
  if port_open 5432; then return; fi
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do port_open 5432 && return; sleep 1; done
  echo "test-deps: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1
}

ensure_redis() {
  if port_open 6379; then return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do port_open 6379 && return; sleep 1; done
  echo "test-deps: Redis does not answer on 127.0.0.1:6379" >&2; exit 1
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium fonts-liberation
}

ensure_postgres
ensure_redis
ensure_chromium
