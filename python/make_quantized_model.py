"""Quantize a float model's decoder-layer linears into a GPTQ, AWQ or FP8 checkpoint, and write its f32 reference.

Usage: make_quantized_model.py SRC DST --format gptq|awq|fp8|w8a16 [--bits 4|8] [--group-size N]
                               [--desc-act] [--asym] [--fp8-scheme block|tensor|channel] [--fp8-block R,C]
                               [--seed S] [--dequantized DIR] [--skip-modules a,b]

SRC is a float model directory (config.json + safetensors, e.g. from make_tiny_model.py). Every 2-D
``P.weight`` of a linear inside the decoder layers (a name with ``.layers.`` whose module is a *_proj,
kv_a_proj_with_mqa, an expert's w1/w2/w3, or another family's linear: fc1, fc2, wqkv, wo, W_pack,
query_key_value, dense, dense_h_to_4h, dense_4h_to_h) is replaced by
  gptq:  P.qweight int32 [in*bits/32, out], P.qzeros int32 [groups, out*bits/32] (v1: zero - 1),
         P.scales f16 [groups, out], P.g_idx int32 [in]        (AutoGPTQ, checkpoint_format "gptq")
  awq:   P.qweight int32 [in, out/8], P.qzeros int32 [groups, out/8], P.scales f16 [groups, out]
                                                                (AutoAWQ, version "gemm", 4 bits)
  fp8 block:  P.weight F8_E4M3 [out, in], P.weight_scale_inv f32 [ceil(out/128), ceil(in/128)]
                                                                (DeepSeek-V3)
  fp8 tensor: P.weight F8_E4M3 [out, in], P.weight_scale f32 []  (vLLM "fp8")
and config.json gets the tool's quantization_config. MoE routers (mlp.gate, block_sparse_moe.gate,
shared_expert_gate), embeddings, norms, biases and the LM head are kept as they are; so is every module
whose name contains one of --skip-modules. Layouts and quantizers: vgcu_ref/quant.py.

--dequantized DIR also writes the same model with the dequantized weights (f32) under their original
names and no quantization_config: the reference whose logits a reader of DST must reproduce.
--format w8a16 and --format fp8 --fp8-scheme channel have no checkpoint format: DST is then that
reference for `vgcu-compile --quantize w8a16|fp8` (symmetric per-output-channel int8 / e4m3) of SRC.
The same SRC, options and seed always produce identical files (--seed draws the --desc-act order).
"""

import argparse
import os
import re
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref import quant  # noqa: E402
from vgcu_ref import safetensors_io as st  # noqa: E402
from vgcu_ref.checkpoint import read_config, write_config  # noqa: E402

GENERATION_CONFIG = "generation_config.json"

# Linear modules inside decoder layers besides the *_proj ones (Mixtral experts, OPT, InternLM2,
# Baichuan, ChatGLM). Routers ("gate", "shared_expert_gate") are deliberately absent: the tools keep them float.
LINEAR_LEAVES = frozenset({"kv_a_proj_with_mqa", "w1", "w2", "w3", "fc1", "fc2", "wqkv", "wo", "W_pack",
                           "query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"})
FORMATS = ("gptq", "awq", "fp8", "w8a16")


def is_quantized_linear(name: str, tensor: torch.Tensor) -> bool:
    """Whether ``name`` is the weight of a linear the quantizers replace (see the module docstring)."""
    if tensor.dim() != 2 or not name.endswith(".weight") or ".layers." not in name:
        return False
    leaf = name[: -len(".weight")].rpartition(".")[2]
    return leaf.endswith("_proj") or leaf in LINEAR_LEAVES


def _num_shards(model_dir: str) -> int:
    index = os.path.join(model_dir, st.INDEX_FILE)
    if not os.path.isfile(index):
        return 1
    return len([n for n in os.listdir(model_dir) if re.fullmatch(r"model-\d{5}-of-\d{5}\.safetensors", n)])


def _parse_block(text: str):
    parts = [int(p) for p in text.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) <= 0:
        raise argparse.ArgumentTypeError(f"--fp8-block expects R,C (positive), got {text!r}")
    return parts


class Quantizer:
    """Quantizes one linear weight per call for the chosen format; holds the --desc-act generator."""

    def __init__(self, args):
        self.args = args
        self.generator = torch.Generator().manual_seed(args.seed)
        self.orders = {}

    def input_order(self, prefix: str, in_features: int) -> torch.Tensor:
        """The --desc-act order of a module's input channels. GPTQ orders them by the Hessian of
        the layer input, so modules reading one input (q/k/v, gate/up) share the order and their
        g_idx, as real act-order checkpoints do (and as vLLM's packed qkv_proj / gate_up_proj
        assume)."""
        parent, _, leaf = prefix.rpartition(".")
        shared = {"q_proj": "qkv", "k_proj": "qkv", "v_proj": "qkv", "gate_proj": "gate_up",
                  "up_proj": "gate_up", "w1": "gate_up", "w3": "gate_up"}
        key = (parent + "." + shared.get(leaf, leaf), in_features)
        if key not in self.orders:
            self.orders[key] = torch.randperm(in_features, generator=self.generator)
        return self.orders[key]

    def __call__(self, weight: torch.Tensor, prefix: str = ""):
        """(replacement tensors by leaf name, their safetensors dtype overrides, dequantized f32 weight)."""
        a = self.args
        if a.format == "gptq":
            perm = self.input_order(prefix, weight.shape[1]) if a.desc_act else None
            q, scales, zeros, g_idx = quant.quantize_groupwise(weight, a.bits, a.group_size, not a.asym,
                                                               a.desc_act, self.generator, perm)
            dequantized = quant.dequantize_groupwise(q, scales, zeros, g_idx)
            return quant.pack_gptq(q, scales, zeros, g_idx, a.bits), {}, dequantized
        if a.format == "awq":
            q, scales, zeros = quant.quantize_awq(weight, a.group_size)
            g_idx = torch.arange(weight.shape[1]) // (weight.shape[1] // scales.shape[0])
            return quant.pack_awq(q, scales, zeros), {}, quant.dequantize_groupwise(q, scales, zeros, g_idx)
        if a.format == "w8a16":
            return None, {}, quant.dequantize_int8_per_channel(*quant.quantize_int8_per_channel(weight))
        if a.fp8_scheme == "channel":
            return None, {}, quant.dequantize_fp8_per_channel(*quant.quantize_fp8_per_channel(weight))
        if a.fp8_scheme == "block":
            bits, scale_inv = quant.quantize_fp8_block(weight, a.fp8_block)
            return ({"weight": bits, "weight_scale_inv": scale_inv}, {"weight": "F8_E4M3"},
                    quant.dequantize_fp8_block(bits, scale_inv, a.fp8_block))
        bits, scale = quant.quantize_fp8_per_tensor(weight)
        return ({"weight": bits, "weight_scale": scale}, {"weight": "F8_E4M3"},
                quant.dequantize_fp8_per_tensor(bits, scale))

    def check_shape(self, prefix: str, shape) -> None:
        """Refuse shapes the format cannot pack, before any work (the tools would assert or write garbage)."""
        out_features, in_features = shape
        a = self.args
        problem = None
        if a.format == "gptq" and (in_features % 32 or out_features % 32):
            problem = "GPTQ packs 32 input and 32 output channels per word column / row"
        elif a.format == "awq" and out_features % 8:
            problem = "AWQ packs 8 output channels per word"
        elif a.format == "awq" and a.group_size != -1 and in_features % a.group_size:
            problem = f"AWQ needs in_features divisible by the group size {a.group_size}"
        if problem:
            leaf = prefix.rpartition(".")[2]
            raise ValueError(f"{prefix}: cannot quantize a [{out_features}, {in_features}] weight to {a.format}: "
                             f"{problem} (keep it in float with --skip-modules {leaf})")

    def quantization_config(self, skipped):
        a = self.args
        if a.format == "gptq":
            return quant.gptq_config(a.bits, a.group_size, a.desc_act, not a.asym)
        if a.format == "awq":
            return quant.awq_config(a.group_size, a.skip_modules)
        return quant.fp8_config(a.fp8_scheme, a.fp8_block, skipped)


def _write(out_dir, tensors, config, src, num_shards, dtypes=None):
    st.save_checkpoint(tensors, out_dir, min(num_shards, len(tensors)), metadata={"format": "pt"}, dtypes=dtypes)
    write_config(out_dir, config)
    if os.path.isfile(os.path.join(src, GENERATION_CONFIG)):
        shutil.copyfile(os.path.join(src, GENERATION_CONFIG), os.path.join(out_dir, GENERATION_CONFIG))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", help="float model directory (config.json + safetensors)")
    parser.add_argument("dst", help="output model directory")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--bits", type=int, choices=[4, 8], help="gptq: 4 (default) or 8; awq: 4")
    parser.add_argument("--group-size", type=int,
                        help="gptq/awq input channels per scale, -1 = whole row (default 32: the tiny models' "
                             "linears are 32..128 wide; the tools default to 128)")
    parser.add_argument("--desc-act", action="store_true",
                        help="gptq: groups over a seeded random order of the input channels (act-order g_idx)")
    parser.add_argument("--asym", action="store_true", help="gptq: asymmetric (sym: false); awq always is")
    parser.add_argument("--fp8-scheme", choices=["block", "tensor", "channel"],
                        help="fp8: DeepSeek-V3 blocks (default), vLLM per tensor, or vgcu's per output channel")
    parser.add_argument("--fp8-block", type=_parse_block, metavar="R,C",
                        help="fp8 block: weight_block_size (default 128,128)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --desc-act permutations")
    parser.add_argument("--dequantized", metavar="DIR", help="also write the f32 dequantized reference model here")
    parser.add_argument("--skip-modules", type=lambda s: [m for m in s.split(",") if m], default=[],
                        metavar="a,b", help="keep linears whose name contains one of these in float")
    args = parser.parse_args(argv)

    grouped = args.format in ("gptq", "awq")
    for flag, given in (("--bits", args.bits is not None), ("--group-size", args.group_size is not None),
                        ("--asym", args.asym)):
        if given and not grouped:
            parser.error(f"{flag} applies to --format gptq or awq")
    if args.desc_act and args.format != "gptq":
        parser.error("--desc-act applies to --format gptq")
    if args.format != "fp8" and (args.fp8_scheme or args.fp8_block):
        parser.error("--fp8-scheme and --fp8-block apply to --format fp8")
    if args.format == "awq" and args.bits == 8:
        parser.error("AutoAWQ's GEMM format has 4 bits only")
    args.bits = args.bits or (4 if grouped else None)
    args.group_size = 32 if args.group_size is None else args.group_size
    if grouped and (args.group_size == 0 or args.group_size < -1):
        parser.error("--group-size must be positive or -1")
    args.fp8_scheme = args.fp8_scheme or "block"
    args.fp8_block = args.fp8_block or [128, 128]
    if args.fp8_block != [128, 128] and args.fp8_scheme != "block":
        parser.error("--fp8-block applies to --fp8-scheme block")
    reference_only = args.format == "w8a16" or (args.format == "fp8" and args.fp8_scheme == "channel")
    if reference_only and args.dequantized:
        parser.error("w8a16 and fp8 channel write the dequantized reference to DST itself; drop --dequantized")

    config = read_config(args.src)
    if "quantization_config" in config:
        parser.error(f"{args.src} is already quantized ({config['quantization_config'].get('quant_method')})")
    tensors = st.load_checkpoint(args.src)
    quantizer = Quantizer(args)
    quantized, reference, dtypes = {}, {}, {}
    done, skipped = [], []
    try:
        for name, tensor in tensors.items():
            if not is_quantized_linear(name, tensor):
                quantized[name] = reference[name] = tensor
                continue
            prefix = name[: -len(".weight")]
            if any(module in prefix for module in args.skip_modules):
                quantized[name] = reference[name] = tensor
                skipped.append(prefix)
                continue
            quantizer.check_shape(prefix, tensor.shape)
            parts, part_dtypes, dequantized = quantizer(tensor.float(), prefix)
            for leaf, part in (parts or {}).items():
                quantized[f"{prefix}.{leaf}"] = part
            dtypes.update({f"{prefix}.{leaf}": dtype for leaf, dtype in part_dtypes.items()})
            reference[name] = dequantized
            done.append(prefix)
    except ValueError as e:
        parser.error(str(e))
    if not done:
        parser.error(f"{args.src}: no decoder-layer linear to quantize")

    num_shards = _num_shards(args.src)
    if reference_only:
        _write(args.dst, reference, config, args.src, num_shards)
    else:
        _write(args.dst, quantized, {**config, "quantization_config": quantizer.quantization_config(skipped)},
               args.src, num_shards, dtypes)
        if args.dequantized:
            _write(args.dequantized, reference, config, args.src, num_shards)
    scheme = {"gptq": f"{args.bits} bits, group {args.group_size}, {'asym' if args.asym else 'sym'}"
                      f"{', desc_act' if args.desc_act else ''}",
              "awq": f"4 bits, group {args.group_size}", "w8a16": "int8 per channel, reference only",
              "fp8": args.fp8_scheme + (" reference only" if reference_only else "")}[args.format]
    print(f"wrote {args.format} ({scheme}): {len(done)} linears quantized, {len(skipped)} kept float, to {args.dst}"
          + (f"; f32 reference to {args.dequantized}" if args.dequantized else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
