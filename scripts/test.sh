#!/usr/bin/env bash
# The test command README.md gives: installs what the tests need, then runs them all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f tests/browser/package.json ]; then
    bash scripts/setup-browser.sh
fi
cargo test --workspace --locked "$@"
