#!/usr/bin/env bash
# The test command README.md gives: installs what the browser tests need, then runs every
# test, the browser tests included (plain `cargo test` skips them and says so).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-browser.sh
export UJIAN_TEST_BROWSER=1
cargo test --workspace --locked "$@"
