#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test: lit (IR, tools, end to end), GoogleTest
# units and the Python reference self-test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
build_dir=${BUILD_DIR:-build}
echo "== unit tests"
"$build_dir/bin/vgcu-unittests" --gtest_brief=1
echo "== python reference self-test"
PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 python/test_reference.py
echo "== lit"
/usr/lib/llvm-22/bin/lit -sv "$build_dir/test"
