#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs the dependencies,
# builds, and runs every unit and integration test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/build.sh -DDE_TEST_HOOKS=ON -DDE_WERROR=ON
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 600
