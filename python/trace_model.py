"""Trace a reference model to TorchScript with torch.jit.trace and check the trace at other lengths.

Usage: trace_model.py MODEL_DIR OUT.pt [--variant a,b] [--tokens 8] [--dtype f32|bf16] [--seed S]
                      [--with-cache MAX_LEN]

Builds the model from MODEL_DIR/config.json with the checkpoint's weights (seeded random weights if the
directory has no safetensors checkpoint), traces ``forward(input_ids[T], positions[T]) -> logits[T, V]``
at T = --tokens and saves it with torch.jit.save. The top-level *ForCausalLM module is traced, so
parameters keep their HF paths (model.layers.0.self_attn.q_proj.weight, ...); the rotary inv_freq is a
float32 buffer attribute (model.rotary_emb.inv_freq; longrope adds model.rotary_emb.long_inv_freq and
dynamic model.rotary_emb.inv_freq_exponent, selected in-graph from max(positions) + 1, see rope.py). With --with-cache the same module also gets a
traced ``forward_with_cache(input_ids, positions, k_cache, v_cache)`` method, whose caches are
[layers, MAX_LEN, kv_heads, head_dim] tensors updated in place.

The saved archive carries two extra files: config.json (the resolved HF config) and vgcu_ref.json
(variant, dtype, trace length, kv cache shape). Before saving, the trace is compared against eager
execution at lengths different from T, and the cache method against a full forward.
"""

import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref.checkpoint import HF_DTYPE_NAMES, check_compute_dtype, load_model, parse_dtype, read_config  # noqa: E402
from vgcu_ref.models import VARIANTS, build_model  # noqa: E402
from vgcu_ref.rope import rope_depends_on_call  # noqa: E402
from vgcu_ref.safetensors_io import has_checkpoint  # noqa: E402
from vgcu_ref.tiny import init_random_weights  # noqa: E402


def _inputs(length: int, vocab: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (length,), generator=generator), torch.arange(length)


def _tolerance(dtype: torch.dtype) -> float:
    return 1e-5 if dtype == torch.float32 else 2e-2


def _compare(name: str, got: torch.Tensor, want: torch.Tensor, dtype: torch.dtype) -> str:
    scale = float(want.abs().max()) or 1.0
    err = float((got - want).abs().max()) / scale
    if got.shape != want.shape or not err <= _tolerance(dtype):
        raise RuntimeError(f"{name}: traced module disagrees with eager (shape {tuple(got.shape)}, rel err {err:.3g})")
    return f"{name}: ok (max rel err {err:.2g})"


def verify_trace(model, traced, tokens: int) -> list:
    """Compare traced forward with eager at lengths other than the traced one."""
    vocab = model.config["vocab_size"]
    reports = []
    for length in sorted({max(1, tokens - 3), tokens + 5}):
        ids, pos = _inputs(length, vocab, seed=length)
        reports.append(_compare(f"forward T={length}", traced(ids, pos), model(ids, pos), model.dtype))
    # Positions need not start at 0 or be sorted: masking follows them, not the token order.
    ids, pos = _inputs(6, vocab, seed=99)
    pos = torch.tensor([3, 0, 5, 1, 4, 2])
    reports.append(_compare("forward permuted positions", traced(ids, pos), model(ids, pos), model.dtype))
    return reports


def verify_cache(model, traced, max_len: int, prefill: int) -> str:
    """Prefill then decode token by token through the traced cache method; compare with eager forward."""
    steps = min(4, max_len - prefill)
    ids, pos = _inputs(prefill + steps, model.config["vocab_size"], seed=7)
    k_cache, v_cache = model.new_kv_cache(max_len)
    rows = [traced.forward_with_cache(ids[:prefill], pos[:prefill], k_cache, v_cache)]
    for i in range(prefill, prefill + steps):
        rows.append(traced.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache))
    want = model(ids, pos)
    if rope_depends_on_call(model.config):
        # dynamic / longrope rotate each call with its own max position (rope.py): compare with the
        # same calls made eagerly, not with one full forward.
        k_cache, v_cache = model.new_kv_cache(max_len)
        want = torch.cat([model.forward_with_cache(ids[:prefill], pos[:prefill], k_cache, v_cache)] + [
            model.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache)
            for i in range(prefill, prefill + steps)])
    return _compare(f"forward_with_cache prefill {prefill} + {steps} decode steps",
                    torch.cat(rows), want, model.dtype)


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL_DIR, OUT and the options that make the model and its example input (also hf_style_trace.py's)."""
    parser.add_argument("model_dir")
    parser.add_argument("out")
    parser.add_argument("--variant", default="", help="comma separated subset of " + ",".join(sorted(VARIANTS)))
    parser.add_argument("--tokens", type=int, default=8, help="token count of the example input (>= 2)")
    parser.add_argument("--dtype", default="f32", choices=["f32", "bf16"], help="compute dtype of the trace")
    parser.add_argument("--seed", type=int, default=0, help="weight seed when MODEL_DIR has no checkpoint")


def model_from_args(parser: argparse.ArgumentParser, args):
    """Checks --tokens, then loads MODEL_DIR's checkpoint in --dtype (seeded random weights without one)."""
    if args.tokens < 2:
        parser.error("--tokens must be >= 2 (a length-1 example could specialize broadcasts)")
    dtype = parse_dtype(args.dtype)
    check_compute_dtype(dtype)
    if has_checkpoint(args.model_dir):
        model = load_model(args.model_dir, dtype, args.variant)
        print(f"loaded weights from {args.model_dir}")
    else:
        model = build_model(read_config(args.model_dir), variant=args.variant)
        init_random_weights(model, args.seed)
        model = model.to(dtype)
        print(f"no checkpoint in {args.model_dir}: using random weights (seed {args.seed})")
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--with-cache", type=int, metavar="MAX_LEN",
                        help="also trace forward_with_cache for KV caches of MAX_LEN positions")
    args = parser.parse_args(argv)
    if args.with_cache is not None and args.tokens >= 2 and args.with_cache <= args.tokens:
        parser.error("--with-cache MAX_LEN must exceed --tokens")
    model = model_from_args(parser, args)

    if hasattr(model, "set_moe_impl"):
        model.set_moe_impl("dense")  # MoE: HF's expert loop does not trace with a dynamic token count
    ids, pos = _inputs(args.tokens, model.config["vocab_size"], seed=0)
    with torch.no_grad():
        if args.with_cache is None:
            traced = torch.jit.trace(model, (ids, pos), check_trace=False)
        else:
            k_cache, v_cache = model.new_kv_cache(args.with_cache)
            traced = torch.jit.trace_module(
                model,
                {"forward": (ids, pos), "forward_with_cache": (ids, pos, k_cache, v_cache)},
                check_trace=False,
            )
        reports = verify_trace(model, traced, args.tokens)
        if args.with_cache is not None:
            reports.append(verify_cache(model, traced, args.with_cache, args.tokens))

    traced_names = set(traced.state_dict())
    missing = sorted(set(model.checkpoint_state_dict()) - traced_names)
    if missing:
        raise RuntimeError(f"traced module lost parameter paths: {missing[:5]}")

    meta = {
        "variant": sorted(model.variant),
        "dtype": HF_DTYPE_NAMES[model.dtype],
        "trace_tokens": args.tokens,
        "methods": ["forward"] + ([] if args.with_cache is None else ["forward_with_cache"]),
        "kv_cache_shape": None if args.with_cache is None else list(model.kv_cache_shape(args.with_cache)),
    }
    if args.with_cache is not None and hasattr(model, "v_cache_shape"):  # MLA: v_cache differs from k_cache
        meta["v_cache_shape"] = list(model.v_cache_shape(args.with_cache))
    extra_files = {"config.json": json.dumps(model.config, sort_keys=True), "vgcu_ref.json": json.dumps(meta)}
    torch.jit.save(traced, args.out, _extra_files=extra_files)
    for line in reports:
        print(line)
    print(f"saved {model.architecture} trace to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
