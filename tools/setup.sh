#!/usr/bin/env bash
# Installs everything the project needs, from the registries only, into the project tree:
#   node_modules/   npm ci (Foundry binaries, solc-js, protocol sources and artifacts)
#   .tools/         bootstrap venv holding uv
#   .venv/          the Python environment, exactly as uv.lock says
# Each step is skipped when its inputs have not changed since it last succeeded (stamp files).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
stamps=.tools/stamps
mkdir -p "$stamps"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' is required ($2)" >&2; exit 1; }; }
need node "Node 20 or newer"
need npm "npm, shipped with Node"
need python3.11 "Python 3.11" 2>/dev/null || need python3 "Python 3.11"
PY=$(command -v python3.11 || command -v python3)
"$PY" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null || {
  echo "setup: Python 3.11 is required; found $("$PY" --version)" >&2; exit 1; }

fresh() { # fresh STAMP FILE...: true when STAMP is newer than every FILE
  local stamp="$stamps/$1"; shift
  [ -f "$stamp" ] || return 1
  for f in "$@"; do [ "$f" -nt "$stamp" ] && return 1; done
  return 0
}

if ! fresh npm package-lock.json package.json || [ ! -d node_modules/@foundry-rs ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamps/npm"
fi

if [ ! -x .tools/uv/bin/uv ]; then
  echo "setup: bootstrap uv"
  "$PY" -m venv .tools/uv
  .tools/uv/bin/pip install --quiet --disable-pip-version-check uv==0.13.9
fi

if ! fresh venv uv.lock pyproject.toml || [ ! -x .venv/bin/python ]; then
  echo "setup: uv sync --frozen"
  UV_PYTHON="$PY" .tools/uv/bin/uv sync --frozen --quiet
  touch "$stamps/venv"
fi


# promtool, for the test that checks deploy/prometheus/ (promtool check rules + test rules): Debian's prometheus
# package unpacked into .tools/prometheus (nothing installed system-wide, no service started). Where apt cannot
# fetch it, the stamp stops retries and that one test skips saying why.
if [ ! -x .tools/prometheus/usr/bin/promtool ] && [ ! -f "$stamps/promtool-unavailable" ] \
   && command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
  echo "setup: promtool (Debian prometheus package, unpacked into .tools/prometheus)"
  tmp=$(mktemp -d)
  if (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 || \
        { apt-get update -qq >/dev/null 2>&1 && apt-get download prometheus >/dev/null 2>&1; }; }); then
    dpkg-deb -x "$tmp"/prometheus_*.deb .tools/prometheus
  else
    echo "setup: apt could not fetch Debian's prometheus package; the promtool check will skip" >&2
    touch "$stamps/promtool-unavailable"
  fi
  rm -rf "$tmp"
fi
