#!/usr/bin/env bash
# The main job on a bundled tiny model: installs what is needed, builds vgcu, makes a tiny seeded
# Llama checkpoint, compiles it for two tensor-parallel ranks and generates 16 tokens with it,
# next to the PyTorch reference's tokens for the same prompt (exit status 1 if they differ).
# VGCU_DEMO_DIR sets where the checkpoint and artifact go (default: build/demo);
# VGCU_DEMO_SKIP_BUILD=1 uses the binaries already in BUILD_DIR (the lit test of this script).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${VGCU_DEMO_SKIP_BUILD:-0}" != 1 ]; then
  ./scripts/setup.sh
  ./scripts/build.sh
fi
bin=${BUILD_DIR:-build}/bin
out=${VGCU_DEMO_DIR:-${BUILD_DIR:-build}/demo}
rm -rf "$out" && mkdir -p "$out"

echo "== a tiny Llama checkpoint (seeded random weights)"
/usr/bin/python3 python/make_tiny_model.py llama "$out/tiny-llama"
echo "== compile for tp = 2"
"$bin/vgcu-compile" "$out/tiny-llama" --tp 2 --summary-json --log-level=warn |
  /usr/bin/python3 -c 'import json, sys; s = json.load(sys.stdin); print("{}: {} parameters, {} layers, {} kernel launches per decoder layer".format(s["architecture"], s["parameters"], s["layers"], s["kernel_launches"]["per_decoder_layer"]))'
"$bin/vgcu-compile" "$out/tiny-llama" -o "$out/tiny-llama.vgcu" --tp 2
echo "== run: prompt 5,17,42, 16 greedy tokens"
ours=$("$bin/vgcu-run" "$out/tiny-llama.vgcu" --prompt-ids 5,17,42 --max-new-tokens 16)
reference=$(/usr/bin/python3 python/run_reference.py "$out/tiny-llama" --prompt-ids 5,17,42 --max-new-tokens 16)
echo "vgcu-run:  $ours"
echo "reference: $reference"
if [ "$ours" != "$reference" ]; then
  echo "demo: vgcu-run's tokens differ from the reference's" >&2
  exit 1
fi
echo "the tokens match"
echo "== serve three requests at once through the batching engine (tp = 2)"
printf '%s\n' \
  '{"id": "greedy", "prompt_ids": [5, 17, 42], "max_tokens": 16, "temperature": 0}' \
  '{"id": "sampled", "prompt_ids": [5, 17, 42], "max_tokens": 8, "temperature": 0.8, "top_p": 0.9, "seed": 7}' \
  '{"id": "long", "prompt_ids": [9, 8, 7, 6, 5, 4, 3, 2, 1], "max_tokens": 12, "temperature": 0}' \
  > "$out/requests.jsonl"
"$bin/vgcu-run" "$out/tiny-llama.vgcu" --requests "$out/requests.jsonl" --log-level=warn |
  tee "$out/responses.jsonl"
batched=$(/usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["id"] == "greedy":
        print(" ".join(map(str, r["tokens"])))' "$out/responses.jsonl")
if [ "$batched" != "$reference" ]; then
  echo "demo: the batched greedy request's tokens differ from the reference's" >&2
  exit 1
fi
echo "the batched greedy request matches the reference too"
