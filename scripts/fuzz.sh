#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) in build-fuzz/ and runs one of them.
#   scripts/fuzz.sh TARGET [SECONDS]     TARGET: safetensors | config | manifest | ir
# Seeds come from the test data; findings land in build-fuzz/findings/TARGET-*.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh safetensors|config|manifest|ir [SECONDS]}
seconds=${2:-60}
case "$target" in safetensors|config|manifest|ir) ;; *) echo "unknown fuzz target '$target'" >&2; exit 2;; esac
./scripts/setup.sh
build=build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGCU_FUZZ=ON
fi
ninja -C "$build" -j"${VGCU_JOBS:-2}" "vgcu-fuzz-$target"

corpus="$build/corpus/$target"
mkdir -p "$corpus" "$build/findings"
seed() { local n=0; for f in "$@"; do [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$(dirname "$f")")-$n-$(basename "$f")" && n=$((n+1)); done; true; }
case "$target" in
  safetensors)
    if [ ! -f "$corpus/seed-tiny" ]; then
      /usr/bin/python3 python/make_tiny_model.py llama "$build/seed-model" --layers 1 --hidden 16 --heads 2 --kv-heads 1 --intermediate 16 --vocab 32 > /dev/null
      cp "$build/seed-model/model.safetensors" "$corpus/seed-tiny"
    fi
    seed test/bad-inputs/*/*.safetensors ;;
  config)
    seed test/Models/Inputs/*/config.json test/Sharding/Inputs/*/config.json test/data/configs/*/config.json test/bad-inputs/*/config.json ;;
  manifest)
    if [ ! -f "$corpus/seed-manifest" ]; then
      /usr/bin/python3 python/make_tiny_model.py llama "$build/seed-model2" --layers 1 > /dev/null
      build/bin/vgcu-compile "$build/seed-model2" -o "$build/seed.vgcu" --tp 2 --force --log-level=warn
      cp "$build/seed.vgcu/manifest.json" "$corpus/seed-manifest"
    fi
    seed test/bad-inputs/*/manifest.json ;;
  ir)
    for f in test/Dialect/*.mlir test/Dialect/*/*.mlir test/Passes/*.mlir; do
      /usr/bin/python3 - "$f" "$corpus" <<'PY'
import os, sys
source, corpus = sys.argv[1], sys.argv[2]
for i, chunk in enumerate(open(source).read().split("// -----")):
    name = os.path.join(corpus, f"seed-{os.path.basename(source)}-{i}")
    with open(name, "w") as out:
        out.write(chunk)
PY
    done ;;
esac
echo "fuzzing $target for $seconds s with $(ls "$corpus" | wc -l) corpus entries"
# LLVM's BumpPtrAllocator poisons its slabs in instrumented code (inline in our headers) but
# not in the uninstrumented libMLIR sharing the same allocator, which then trips ASan on
# memory it legitimately owns: user poisoning is off.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allow_user_poisoning=0
regressions=(fuzz/regressions/"$target"/*)
if [ -e "${regressions[0]}" ]; then
  echo "replaying ${#regressions[@]} kept findings"
  "$build/bin/vgcu-fuzz-$target" "${regressions[@]}"
  cp "${regressions[@]}" "$corpus/"
fi
exec "$build/bin/vgcu-fuzz-$target" "$corpus" -max_total_time="$seconds" -print_final_stats=1 \
  -timeout=30 -rss_limit_mb=4096 -artifact_prefix="$build/findings/$target-"
