"""Greedy-decode a model directory with the PyTorch reference and print the generated token ids.

Usage: run_reference.py MODEL_DIR --prompt-ids 5,17,42 --max-new-tokens N [--dtype f32|bf16|f16]
                        [--variant a,b] [--kv-cache] [--kv-cache-dtype int8|fp8_e4m3] [--json]
                        [--teacher-forced 8,9,10]

Prints the generated ids space separated, or with --json one JSON object
{"tokens": [generated ids], "logits": [float32 logits row of the LAST PROMPT position, from the first
forward]}. The whole sequence is recomputed every step unless --kv-cache is given. Exactly N tokens are
generated (no EOS stop); ties go to the lowest token id. With --teacher-forced IDS (a generation
to judge, usually another implementation's), one forward over prompt + IDS gives the greedy choice at
every generated position given that exact prefix; --json then adds "predictions", so agreement can be
counted token by token instead of stopping at the first near-tie that sends two runs apart. --dtype is the compute dtype (default f32;
checkpoint tensors are cast to it). Loading fails unless every model parameter is found in the
checkpoint and every checkpoint tensor is used. --kv-cache-dtype int8|fp8_e4m3 attends over keys and
values as vgcu's quantized KV cache reads them back (vgcu_ref/kv_quant.py).

Rope types whose frequencies depend on the positions of each call (rope_scaling "dynamic" and
"longrope", see vgcu_ref/rope.py) make the two modes differ once the sequence crosses the switch
length (max_position_embeddings for dynamic, original_max_position_embeddings for longrope):
  * without --kv-cache every step is ONE forward over positions 0..n-1, so every token is rotated with
    the frequencies of length n (HF generate with use_cache=False);
  * with --kv-cache the prompt is one call and every new token another; each call rotates its
    queries and the keys it writes with the frequencies for seq_len = (max position OF THAT CALL) + 1,
    and cached keys keep the rotation of the call that wrote them (HF generate with its KV cache). Phi3 with rope_scaling
    re-prefills the whole sequence when it reaches original_max_position_embeddings + 1 tokens, as
    HF's Phi3ForCausalLM.prepare_inputs_for_generation does.
The C++ runtime (paged KV cache, @prefill then @decode) is compared with the --kv-cache run for such
configs: e2e_check.py adds --kv-cache when rope.rope_depends_on_call(config) (with --teacher-forced,
--kv-cache makes the predictions come from cached calls fed the given ids, too). For every other rope
type the two modes agree up to float summation order.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref import kv_quant  # noqa: E402
from vgcu_ref.checkpoint import load_model, parse_dtype  # noqa: E402
from vgcu_ref.generate import greedy_generate, greedy_generate_with_cache, teacher_forced_with_cache  # noqa: E402


def _parse_ids(text: str):
    try:
        ids = [int(t) for t in text.replace(" ", ",").split(",") if t]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma separated integers, got {text!r}") from None
    if not ids:
        raise argparse.ArgumentTypeError("the prompt must contain at least one token id")
    return ids


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--prompt-ids", type=_parse_ids, required=True, help="e.g. 5,17,42")
    parser.add_argument("--max-new-tokens", type=int, required=True)
    parser.add_argument("--dtype", default="f32", choices=["f32", "bf16", "f16"], help="compute dtype")
    parser.add_argument("--variant", default="", help="comma separated alternative spellings (same results)")
    parser.add_argument("--kv-cache", action="store_true", help="decode incrementally with forward_with_cache")
    parser.add_argument("--kv-cache-dtype", default="auto", choices=["auto", "int8", "fp8_e4m3"],
                        help="attend over keys and values as vgcu's quantized KV cache reads them back")
    parser.add_argument("--json", action="store_true", help="print {tokens, logits} as JSON")
    parser.add_argument("--teacher-forced", type=_parse_ids, default=None,
                        help="generated ids to judge: report the greedy choice after each prefix")
    args = parser.parse_args(argv)
    if args.max_new_tokens < 0:
        parser.error("--max-new-tokens must be >= 0")
    kv_quant.set_kv_cache_dtype(args.kv_cache_dtype)

    try:
        model = load_model(args.model_dir, parse_dtype(args.dtype), args.variant)
    except (OSError, ValueError, RuntimeError, NotImplementedError) as e:
        print(f"run_reference: cannot load {args.model_dir}: {e}", file=sys.stderr)
        return 1
    vocab = model.config["vocab_size"]
    if any(not 0 <= t < vocab for t in args.prompt_ids):
        parser.error(f"prompt ids must be in [0, {vocab})")
    # The last generated token is never fed back, so the highest position used is this one.
    last_position = max(len(args.prompt_ids), len(args.prompt_ids) + args.max_new_tokens - 1) - 1
    max_positions = model.config["max_position_embeddings"]
    if model.learned_positions and last_position >= max_positions:
        parser.error(f"{model.architecture} has learned positions 0..{max_positions - 1}; "
                     f"this run needs {last_position}")

    if args.kv_cache:
        k_cache, v_cache = model.new_kv_cache(last_position + 1)
        tokens, logits = greedy_generate_with_cache(model, args.prompt_ids, args.max_new_tokens, k_cache, v_cache)
    else:
        tokens, logits = greedy_generate(model, args.prompt_ids, args.max_new_tokens)

    result = {"tokens": tokens, "logits": [float(x) for x in logits]}
    if args.teacher_forced is not None and args.kv_cache:
        k_cache, v_cache = model.new_kv_cache(len(args.prompt_ids) + max(len(args.teacher_forced), 1))
        result["predictions"] = teacher_forced_with_cache(model, args.prompt_ids, args.teacher_forced,
                                                          k_cache, v_cache)
    elif args.teacher_forced is not None:
        import torch

        sequence = args.prompt_ids + args.teacher_forced
        with torch.no_grad():
            all_logits = model(torch.tensor(sequence[:-1] if len(args.teacher_forced) else sequence),
                               torch.arange(len(sequence) - (1 if len(args.teacher_forced) else 0)))
        start = len(args.prompt_ids) - 1
        result["predictions"] = [int(torch.argmax(all_logits[i])) for i in
                                 range(start, start + len(args.teacher_forced))]
    if args.json:
        print(json.dumps(result))
    else:
        print(" ".join(str(t) for t in tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
