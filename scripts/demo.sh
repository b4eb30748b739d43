#!/usr/bin/env bash
# The main job on a bundled tiny model: installs what is needed, builds vgcu, makes a tiny seeded
# Llama checkpoint, compiles it for two tensor-parallel ranks and generates 16 tokens with it,
# next to the PyTorch reference's tokens for the same prompt.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
bin=${BUILD_DIR:-build}/bin
out=${BUILD_DIR:-build}/demo
rm -rf "$out" && mkdir -p "$out"

echo "== a tiny Llama checkpoint (seeded random weights)"
/usr/bin/python3 python/make_tiny_model.py llama "$out/tiny-llama"
echo "== compile for tp = 2"
"$bin/vgcu-compile" "$out/tiny-llama" --tp 2 --summary-json --log-level=warn |
  /usr/bin/python3 -c 'import json, sys; s = json.load(sys.stdin); print(f"{s[\"architecture\"]}: {s[\"parameters\"]} parameters, {s[\"layers\"]} layers, {s[\"kernel_launches\"][\"per_decoder_layer\"]} kernel launches per decoder layer")'
"$bin/vgcu-compile" "$out/tiny-llama" -o "$out/tiny-llama.vgcu" --tp 2
echo "== run: prompt 5,17,42, 16 greedy tokens"
echo -n "vgcu-run:  "
"$bin/vgcu-run" "$out/tiny-llama.vgcu" --prompt-ids 5,17,42 --max-new-tokens 16
echo -n "reference: "
/usr/bin/python3 python/run_reference.py "$out/tiny-llama" --prompt-ids 5,17,42 --max-new-tokens 16
