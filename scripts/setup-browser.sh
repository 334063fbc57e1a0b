#!/usr/bin/env bash
# Installs what the browser tests (crates/server/web/tests/*.mjs) need: Debian's chromium
# and the pinned playwright-core and axe-core from crates/server/web/tests/package-lock.json. Idempotent:
# does nothing when both are already there and up to date. Runs as root (or with sudo) on a
# Debian machine with node and npm.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM_BIN="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM_BIN" ]; then
    echo "setup-browser: installing chromium from Debian"
    export DEBIAN_FRONTEND=noninteractive
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; fi
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium
fi

cd crates/server/web/tests
# The stamp is written after a successful `npm ci`; a newer package-lock.json means the
# pinned versions changed since then.
STAMP=node_modules/.ujian-npm-ci-stamp
if [ ! -d node_modules ] || [ ! -f "$STAMP" ] || [ package-lock.json -nt "$STAMP" ]; then
    echo "setup-browser: npm ci in crates/server/web/tests"
    npm ci --no-audit --no-fund
    touch "$STAMP"
fi
echo "setup-browser: ready ($("$CHROMIUM_BIN" --version 2>/dev/null || echo "$CHROMIUM_BIN"))"
