"""Trace a reference model the Hugging Face way: ``forward(input_ids)`` with positions made in-graph.

Usage: hf_style_trace.py MODEL_DIR OUT.pt [--inputs input_ids|position_ids|attention_mask]
                         [--positions arange|cumsum] [--batched] [--tokens 8] [--dtype f32|bf16]
                         [--variant a,b] [--seed S]

Builds the model like trace_model.py (checkpoint weights, or seeded random weights when MODEL_DIR has
no checkpoint) and traces one of these signatures with torch.jit.trace:

  --inputs input_ids        forward(input_ids[T]) -> logits[T, V]; positions = 0..T-1 computed INSIDE
                            the graph from input_ids' length: ``torch.arange(input_ids.size(-1))``
                            (aten::size -> prim::NumToTensor -> aten::ScalarImplicit -> aten::arange),
                            or with --positions cumsum ``torch.ones_like(input_ids).cumsum(-1) - 1``.
  --inputs position_ids     forward(input_ids[T], position_ids[T]) (the reference interface, HF names).
  --inputs attention_mask   forward(input_ids[T], attention_mask[T]) where position_ids are derived as
                            HF's generate does: ``attention_mask.long().cumsum(-1) - 1``, then
                            ``masked_fill(attention_mask == 0, 1)``. Only all-ones masks are meaningful
                            (no padding support): the graph reads the mask, the results do not change.

--batched adds HF's batch dimension of 1: input_ids [1, T] (and position_ids / attention_mask
[1, T]) -> logits [1, T, V]. The traced module's parameters keep their HF checkpoint paths
(model.layers.0.self_attn.q_proj.weight, lm_head.weight, ...), exactly as trace_model.py's.

The trace is checked against eager execution at other lengths (including, for dynamic/longrope rope,
a length beyond the regime switch) before saving. The archive carries config.json (resolved HF
config) and vgcu_ref.json ({"signature": [...], "positions": ..., "batched": ..., "dtype": ...,
"variant": [...], "trace_tokens": T}).
"""

import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from trace_model import add_model_arguments, model_from_args  # noqa: E402
from vgcu_ref.checkpoint import HF_DTYPE_NAMES  # noqa: E402

SIGNATURES = {
    "input_ids": ["input_ids"],
    "position_ids": ["input_ids", "position_ids"],
    "attention_mask": ["input_ids", "attention_mask"],
}


class _HFStyle(nn.Module):
    """Shares the reference model's children (so parameter names are unchanged) and calls it."""

    def __init__(self, model, positions: str = "arange", batched: bool = False):
        super().__init__()
        for name, child in model.named_children():
            self.add_module(name, child)
        object.__setattr__(self, "reference", model)  # not a submodule: no "reference." prefix
        self.positions = positions
        self.batched = batched

    def _run(self, input_ids, position_ids):
        if self.batched:
            return self.reference(input_ids[0], position_ids[0])[None]
        return self.reference(input_ids, position_ids)


class InputIdsOnly(_HFStyle):
    def forward(self, input_ids):
        if self.positions == "cumsum":
            position_ids = torch.ones_like(input_ids).cumsum(-1) - 1
        else:
            position_ids = torch.arange(input_ids.size(-1), dtype=torch.long)
            if self.batched:
                position_ids = position_ids[None]
        return self._run(input_ids, position_ids)


class WithPositionIds(_HFStyle):
    def forward(self, input_ids, position_ids):
        return self._run(input_ids, position_ids)


class WithAttentionMask(_HFStyle):
    def forward(self, input_ids, attention_mask):
        position_ids = attention_mask.long().cumsum(-1) - 1
        position_ids = position_ids.masked_fill(attention_mask == 0, 1)
        return self._run(input_ids, position_ids)


_WRAPPERS = {"input_ids": InputIdsOnly, "position_ids": WithPositionIds, "attention_mask": WithAttentionMask}


def example_inputs(inputs: str, length: int, vocab: int, seed: int = 0, batched: bool = False):
    """Example arguments of a signature: random ids, positions 0..T-1, an all-ones mask."""
    generator = torch.Generator().manual_seed(seed)
    args = [torch.randint(0, vocab, (length,), generator=generator)]
    if inputs == "position_ids":
        args.append(torch.arange(length))
    elif inputs == "attention_mask":
        args.append(torch.ones(length, dtype=torch.long))
    return tuple(a[None] for a in args) if batched else tuple(args)


def hf_style_module(model, inputs: str = "input_ids", positions: str = "arange", batched: bool = False):
    """The eager wrapper that ``trace_hf_style`` traces."""
    if inputs not in _WRAPPERS:
        raise ValueError(f"unknown --inputs {inputs!r}; choose one of {', '.join(_WRAPPERS)}")
    return _WRAPPERS[inputs](model, positions, batched)


def trace_hf_style(model, inputs: str = "input_ids", tokens: int = 8, positions: str = "arange",
                   batched: bool = False):
    """Trace ``model`` with an HF-style signature; returns (traced module, verification report lines)."""
    wrapper = hf_style_module(model, inputs, positions, batched)
    vocab = model.config["vocab_size"]
    with torch.no_grad():
        traced = torch.jit.trace(wrapper, example_inputs(inputs, tokens, vocab, 0, batched), check_trace=False)
        reports = verify_hf_style(model, traced, inputs, tokens, batched)
    missing = sorted(set(model.checkpoint_state_dict()) - set(traced.state_dict()))
    if missing:
        raise RuntimeError(f"traced module lost parameter paths: {missing[:5]}")
    return traced, reports


def verify_hf_style(model, traced, inputs: str, tokens: int, batched: bool):
    """Traced vs eager ``model(ids, arange(T))`` at lengths other than the traced one."""
    lengths = {max(1, tokens - 3), tokens + 5}
    inner = getattr(model, "model", None) or getattr(model, "transformer", None)  # GPT-2, ChatGLM
    switch = getattr(getattr(inner, "rotary_emb", None), "switch_seq_len", None)
    if switch is not None and switch + 3 <= model.config.get("max_position_embeddings", switch + 3):
        lengths.add(switch + 3)  # dynamic / longrope: beyond the regime switch
    tolerance = 1e-5 if model.dtype == torch.float32 else 2e-2
    reports = []
    for length in sorted(lengths):
        args = example_inputs(inputs, length, model.config["vocab_size"], length, batched)
        ids = args[0][0] if batched else args[0]
        want = model(ids, torch.arange(length))
        got = traced(*args)
        got = got[0] if batched else got
        scale = float(want.abs().max()) or 1.0
        err = float((got - want).abs().max()) / scale
        if got.shape != want.shape or not err <= tolerance:
            raise RuntimeError(f"T={length}: HF-style trace disagrees with eager (shape {tuple(got.shape)}, "
                               f"rel err {err:.3g})")
        reports.append(f"{'+'.join(SIGNATURES[inputs])} T={length}: ok (max rel err {err:.2g})")
    return reports


def save_hf_style_trace(traced, model, out: str, inputs: str, tokens: int, positions: str, batched: bool) -> None:
    meta = {
        "signature": SIGNATURES[inputs],
        "positions": positions if inputs == "input_ids" else ("attention_mask_cumsum" if inputs == "attention_mask"
                                                               else "input"),
        "batched": batched,
        "dtype": HF_DTYPE_NAMES[model.dtype],
        "variant": sorted(model.variant),
        "trace_tokens": tokens,
    }
    extra_files = {"config.json": json.dumps(model.config, sort_keys=True), "vgcu_ref.json": json.dumps(meta)}
    torch.jit.save(traced, out, _extra_files=extra_files)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--inputs", default="input_ids", choices=sorted(SIGNATURES),
                        help="input_ids only, or input_ids plus position_ids / attention_mask")
    parser.add_argument("--positions", default="arange", choices=["arange", "cumsum"],
                        help="how --inputs input_ids makes positions in the graph")
    parser.add_argument("--batched", action="store_true", help="inputs [1, T], logits [1, T, V]")
    args = parser.parse_args(argv)
    model = model_from_args(parser, args)
    traced, reports = trace_hf_style(model, args.inputs, args.tokens, args.positions, args.batched)
    save_hf_style_trace(traced, model, args.out, args.inputs, args.tokens, args.positions, args.batched)
    for line in reports:
        print(line)
    print(f"saved HF-style {model.architecture} trace forward({', '.join(SIGNATURES[args.inputs])}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
