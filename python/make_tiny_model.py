"""Write a tiny (or benchmark-sized) HF-style model directory with seeded random weights.

Usage: make_tiny_model.py ARCH OUT_DIR [--seed S] [--dtype f32|f16|bf16] [--shards N] [--bench]
                          [--layers L] [--hidden H] [--heads N] [--kv-heads N] [--head-dim D]
                          [--intermediate I] [--vocab V] [--max-pos P] [--sliding-window W]
                          [--rope-theta T] [--tie | --no-tie] [--set KEY=JSON ...]

ARCH is an HF architecture (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM,
OPTForCausalLM) or its model_type (llama, mistral, qwen2, qwen3, opt). Writes OUT_DIR/config.json and
OUT_DIR/model.safetensors, or model-0000i-of-0000N.safetensors + model.safetensors.index.json.
The same ARCH, options and seed always produce identical files.

Family modules add more ARCHs (vgcu_ref/families.py), e.g. GemmaForCausalLM / gemma,
Gemma2ForCausalLM / gemma2 and Phi3ForCausalLM / phi3 (tiny Phi3: LongRoPE switching to the long
factors after position 15, partial_rotary_factor 0.75, sliding window 10).
Mixture of experts (vgcu_ref/moe.py, deepseek.py): MixtralForCausalLM / mixtral, Qwen2MoeForCausalLM /
qwen2_moe, Qwen3MoeForCausalLM / qwen3_moe, DeepseekV2ForCausalLM / deepseek_v2 (V2-Lite shaped: MLA
without q_lora_rank, greedy softmax routing) and DeepseekV3ForCausalLM / deepseek_v3 (q_lora_rank,
noaux_tc sigmoid routing); e.g. deepseek_v2 OUT --set topk_method=group_limited_greedy --set n_group=4
--set topk_group=2.

Rotary scaling (any Llama-family or Gemma ARCH; semantics in vgcu_ref/rope.py) is set with --set, a
JSON dict in single quotes; small --max-pos / original_max_position_embeddings make a ~25 token run
cross the switch of the position-dependent types:
  llama OUT --set rope_scaling='{"rope_type":"linear","factor":2.0}'
  llama OUT --max-pos 16 --set rope_scaling='{"rope_type":"dynamic","factor":2.0}'
        (NTK frequencies recomputed per call once max(position)+1 > max_position_embeddings)
  llama OUT --set rope_scaling='{"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":16,
        "beta_fast":32.0,"beta_slow":1.0}'   (optional: "attention_factor", "mscale", "mscale_all_dim",
        "truncate": false)
  llama OUT --max-pos 64 --set original_max_position_embeddings=16 --set rope_scaling='{"rope_type":
        "longrope","short_factor":[8 numbers],"long_factor":[8 numbers]}'   (head_dim/2 = 8 numbers;
        HF v4 reads original_max_position_embeddings from the TOP level of the config, and then
        factor = max_pos / original; without it, rope_scaling needs "factor")
  llama OUT --set rope_scaling='{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
        "high_freq_factor":4.0,"original_max_position_embeddings":16}'
The legacy spelling "type" is accepted for "rope_type"; an unknown type is rejected with its name.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref.checkpoint import parse_dtype, save_model  # noqa: E402
from vgcu_ref.models import build_model  # noqa: E402
from vgcu_ref.tiny import canonical_arch, init_random_weights, tiny_config  # noqa: E402

# CLI flag -> HF config key
_SIZE_FLAGS = {
    "layers": "num_hidden_layers",
    "hidden": "hidden_size",
    "heads": "num_attention_heads",
    "kv_heads": "num_key_value_heads",
    "head_dim": "head_dim",
    "intermediate": "intermediate_size",
    "vocab": "vocab_size",
    "max_pos": "max_position_embeddings",
    "sliding_window": "sliding_window",
    "rope_theta": "rope_theta",
}


def _parse_set(item: str):
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"--set expects KEY=JSON_VALUE, got {item!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value  # bare strings need no quotes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", help="HF architecture or model_type, e.g. LlamaForCausalLM or llama")
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"], help="checkpoint dtype")
    parser.add_argument("--shards", type=int, default=1, help="number of safetensors shards")
    parser.add_argument("--bench", action="store_true",
                        help="benchmark size: 4 layers, hidden 512, 8 heads, 2 KV heads, intermediate 1376, "
                             "vocab 8000, 2048 positions")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--hidden", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--kv-heads", type=int)
    parser.add_argument("--head-dim", type=int)
    parser.add_argument("--intermediate", type=int, help="intermediate_size (ffn_dim for OPT)")
    parser.add_argument("--vocab", type=int)
    parser.add_argument("--max-pos", type=int, help="max_position_embeddings")
    parser.add_argument("--sliding-window", type=int)
    parser.add_argument("--rope-theta", type=float)
    tie = parser.add_mutually_exclusive_group()
    tie.add_argument("--tie", dest="tie", action="store_true", default=None, help="tie lm_head to embeddings")
    tie.add_argument("--no-tie", dest="tie", action="store_false", help="separate lm_head.weight")
    parser.add_argument("--set", type=_parse_set, action="append", default=[], metavar="KEY=JSON",
                        help="override any config field, e.g. --set attention_bias=true")
    args = parser.parse_args(argv)

    try:
        arch = canonical_arch(args.arch)
        overrides = {key: getattr(args, flag) for flag, key in _SIZE_FLAGS.items() if getattr(args, flag) is not None}
        if args.tie is not None:
            overrides["tie_word_embeddings"] = args.tie
        overrides.update(dict(args.set))
        config = tiny_config(arch, bench=args.bench, overrides=overrides)
        model = build_model(config)
    except (ValueError, NotImplementedError) as e:
        parser.error(str(e))
    init_random_weights(model, args.seed)
    save_model(model, args.out_dir, parse_dtype(args.dtype), args.shards)
    params = sum(t.numel() for t in model.checkpoint_state_dict().values())
    print(f"wrote {arch} ({params} parameters, {args.dtype}, {args.shards} shard(s)) to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
