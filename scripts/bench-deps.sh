#!/usr/bin/env bash
# Make sure the benchmark's reference server (nginx) and load generator (wrk) are here.
# Idempotent: quiet when both are present. Installs from Debian's packages when not.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have nginx || missing+=(nginx)
have wrk || missing+=(wrk)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi

echo "bench-deps: installing ${missing[*]}" >&2
as_root apt-get update -qq
DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
