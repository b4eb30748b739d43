#!/usr/bin/env bash
# Configures (once) and builds vgcu with Ninja into build/ (BUILD_DIR overrides; extra args go to CMake).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
fi
ninja -C "$build_dir" -j"${VGCU_JOBS:-2}"
