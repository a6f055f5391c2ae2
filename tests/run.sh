#!/usr/bin/env bash
# The test command (README, "The two commands"; .ci/run runs exactly this):
# provides what the tests need when it is missing (tests/provision.sh), runs
# the whole suite on SQLite, then the end-to-end and in-process route tests
# (server/tests/routes/, whose harness reads BSC_TEST_BACKEND through the testkit
# crate) again on PostgreSQL with PostGIS when one is reachable, and says
# SKIPPED with the reason when not (unless BSC_POSTGRES_TESTS=required:
# then it fails). The second run
# names the whole workspace, as the first does, so that it reuses the first
# run's build (`-p server` alone resolves features differently and compiles
# dozens of crates again); the unit tests of layers and tiles, which have
# no database, run again in seconds. Arguments go to both `cargo test` runs
# (e.g. `tests/run.sh -- --nocapture`).
set -euo pipefail
cd "$(dirname "$0")/.."

. tests/provision.sh

cargo test --workspace --locked "$@"
if [[ "$BSC_POSTGRES_READY" == yes ]]; then
  BSC_TEST_BACKEND=postgres cargo test --workspace --tests --locked "$@"
else
  echo "SKIPPED the PostgreSQL pass (BSC_TEST_BACKEND=postgres): $BSC_POSTGRES_READY" >&2
fi
