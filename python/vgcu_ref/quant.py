"""Quantized weight formats (GPTQ, AWQ, FP8, vgcu's per-channel int8 and fp8): quantizers, packers, dequantizers.

Every layout follows the tool that writes such checkpoints, cited at each function:
  GPTQ  AutoGPTQ/AutoGPTQ auto_gptq/quantization/quantizer.py (Quantizer.find_params), gptq.py
        (GPTQ.fasterquant: groups, act-order g_idx) and nn_modules/qlinear/qlinear_cuda.py
        (QuantLinear.pack writes, QuantLinear.forward's torch path reads), checkpoint_format "gptq" (v1:
        qzeros hold zero - 1);
  AWQ   casper-hansen/AutoAWQ awq/quantize/quantizer.py (AwqQuantizer.pseudo_quantize_tensor,
        _apply_quant), awq/modules/linear/gemm.py (WQLinear_GEMM.from_linear) and
        awq/utils/packing_utils.py (unpack_awq, reverse_awq_order, dequantize_gemm), version "gemm";
  FP8   e4m3fn bits, DeepSeek-V3's 128x128 blocks (deepseek-ai/DeepSeek-V3 inference/kernel.py
        weight_quant / weight_dequant: ``weight`` [out, in] and ``weight_scale_inv``
        [ceil(out/128), ceil(in/128)], w = fp8 * scale_inv) and vLLM's per-tensor "fp8" checkpoints
        (``weight`` and a scalar ``weight_scale``, w = fp8 * weight_scale).
The quantizers are round-to-nearest (GPTQ's Hessian error feedback and AWQ's activation-aware scale
search only change which integers are chosen, not how they are stored). Scales are rounded to the
stored f16 *before* the integers are chosen (the tools choose them with the f32 scale, which can move
a code by one), so dequantize(quantize(w)) is exactly what a reader of the checkpoint computes:
(q - zero) * scale in f32 is exact (at most 8 + 11 significant bits).
All tensors are CPU tensors; integer codes are int32, FP8 codes uint8 (torch 1.13 has no float8).
"""

import math
from typing import Dict, Mapping, Optional, Sequence, Tuple

import torch

# ------------------------------------------------------------------------------------------------
# Shared helpers
# ------------------------------------------------------------------------------------------------


def _to_int32(words: torch.Tensor) -> torch.Tensor:
    """int64 values in [0, 2^32) -> the int32 with the same bits (the tools store uint32 words as int32)."""
    return torch.where(words >= 2 ** 31, words - 2 ** 32, words).to(torch.int32)


def _pack_fields(fields: torch.Tensor, bits: int) -> torch.Tensor:
    """[..., 32/bits] codes in [0, 2^bits) -> [...] int32 words, field i at bits [i*bits, (i+1)*bits)."""
    shifts = torch.arange(0, 32, bits, dtype=torch.int64)
    return _to_int32((fields.to(torch.int64) << shifts).sum(-1))  # fields do not overlap: sum == OR


def _unpack_fields(words: torch.Tensor, bits: int) -> torch.Tensor:
    """[...] int32 words -> [..., 32/bits] codes (arithmetic shifts of negative words are masked off)."""
    shifts = torch.arange(0, 32, bits, dtype=torch.int32)
    return torch.bitwise_and(torch.bitwise_right_shift(words.to(torch.int32)[..., None], shifts), 2 ** bits - 1)


def _check_codes(name: str, codes: torch.Tensor, bits: int) -> None:
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) > 2 ** bits - 1):
        raise ValueError(f"{name} must lie in [0, {2 ** bits - 1}] for {bits} bits, got "
                         f"[{int(codes.min())}, {int(codes.max())}]")


def _f16_scales(scales: torch.Tensor, what: str) -> torch.Tensor:
    """Scales rounded to the stored f16; refuses ones f16 cannot hold (groups spanning < ~1e-6 or > ~5e5)."""
    half = scales.to(torch.float16)
    if not bool(torch.isfinite(half).all()) or bool((half == 0).any()):
        raise ValueError(f"{what}: a scale ({float(scales.min()):.3g}..{float(scales.max()):.3g}) is not "
                         "representable in f16")
    return half


def group_count(in_features: int, group_size: int) -> int:
    return math.ceil(in_features / (in_features if group_size == -1 else group_size))


# ------------------------------------------------------------------------------------------------
# GPTQ (AutoGPTQ, checkpoint_format "gptq")
# ------------------------------------------------------------------------------------------------


def _gptq_find_params(x: torch.Tensor, maxq: int, sym: bool) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per-row (scale, zero) of AutoGPTQ Quantizer.find_params(x, weight=True), perchannel, no mse."""
    tmp = torch.zeros(x.shape[0])
    xmin = torch.minimum(x.min(1)[0], tmp)  # the grid always contains 0
    xmax = torch.maximum(x.max(1)[0], tmp)
    if sym:
        xmax = torch.maximum(torch.abs(xmin), xmax)
        tmp = xmin < 0
        xmin[tmp] = -xmax[tmp]
    tmp = (xmin == 0) & (xmax == 0)
    xmin[tmp] = -1
    xmax[tmp] = +1
    scale = (xmax - xmin) / maxq
    if sym:
        zero = torch.full_like(scale, (maxq + 1) / 2)
    else:
        zero = torch.round(-xmin / scale)
    return scale, zero


def gptq_g_idx(in_features: int, group_size: int, perm: Optional[torch.Tensor] = None) -> torch.Tensor:
    """g_idx [in] int32: group of each input channel; with act-order permutation ``perm`` the channel at
    position j of perm is in group j // group_size (GPTQ.fasterquant: g_idx = (i // group_size)[invperm])."""
    size = in_features if group_size == -1 else group_size
    position = torch.arange(in_features)
    if perm is not None:
        position = torch.empty_like(position)
        position[perm] = torch.arange(in_features)  # the inverse permutation
    return (position // size).to(torch.int32)


def quantize_groupwise(
    w: torch.Tensor,
    bits: int = 4,
    group_size: int = 128,
    sym: bool = True,
    desc_act: bool = False,
    generator: Optional[torch.Generator] = None,
    perm: Optional[torch.Tensor] = None,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """GPTQ-style round-to-nearest quantization of w [out, in].

    Returns (intweight [out, in] int32 in [0, 2^bits), scales [groups, out] f16, zeros [groups, out] int32,
    g_idx [in] int32). group_size -1 is one group per row. With desc_act, a random permutation of the
    input channels (from ``generator``; pass one to be deterministic) stands in for GPTQ's order of
    decreasing Hessian diagonal (``perm``, when given, is that order): groups are formed from consecutive permuted channels, so g_idx is not
    monotonic. sym puts the zero at 2^(bits-1) and the scale at max|w| / (2^(bits-1) - 0.5); asym spans
    [min(w, 0), max(w, 0)].
    """
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    w = w.detach().float()
    out_features, in_features = w.shape
    size = in_features if group_size == -1 else group_size
    if size <= 0:
        raise ValueError(f"group_size must be positive or -1, got {group_size}")
    if perm is None or not desc_act:
        perm = torch.randperm(in_features, generator=generator) if desc_act else torch.arange(in_features)
    g_idx = gptq_g_idx(in_features, group_size, perm if desc_act else None)
    maxq = 2 ** bits - 1
    groups = group_count(in_features, group_size)
    scales = torch.empty(groups, out_features)
    zeros = torch.empty(groups, out_features)
    for g in range(groups):
        scales[g], zeros[g] = _gptq_find_params(w[:, perm[g * size:(g + 1) * size]], maxq, sym)
    scales = _f16_scales(scales, "quantize_groupwise")
    zeros = zeros.to(torch.int32)
    gather = g_idx.long()
    s = scales.float()[gather].t()
    z = zeros[gather].t().float()
    # quantizer.quantize: clamp(round(x / scale) + zero, 0, maxq), torch.round = half to even
    intweight = torch.clamp(torch.round(w / s) + z, 0, maxq).to(torch.int32)
    return intweight, scales, zeros, g_idx


def dequantize_groupwise(
    intweight: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor, g_idx: torch.Tensor
) -> torch.Tensor:
    """(q - zero) * scale in f32 [out, in], zero and scale of each input channel's group g_idx."""
    gather = g_idx.long()
    return (intweight.float() - zeros[gather].t().float()) * scales.float()[gather].t()


def pack_gptq(
    intweight: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor, g_idx: torch.Tensor, bits: int
) -> Dict[str, torch.Tensor]:
    """AutoGPTQ QuantLinear.pack (qlinear_cuda.py) for 4 or 8 bits, v1 checkpoint format.

    qweight [in * bits / 32, out] int32: word (r, o) holds intweight[o, r*32/bits + j] at bits
      [bits*j, bits*(j+1)) (input channels packed along the rows);
    qzeros [groups, out * bits / 32] int32: word (g, c) holds zeros[g, c*32/bits + j] - 1 at bits
      [bits*j, bits*(j+1)) (output channels packed along the columns; v1 stores zero - 1, so a zero of
      0 cannot be stored: AutoGPTQ would write -1 as 0xFFFFFFFF over the whole word, we refuse);
    scales [groups, out] f16; g_idx [in] int32 (written also without act-order).
    Both in and out must be multiples of 32 (AutoGPTQ sizes the buffers as in // 32 * bits and
    out // 32 * bits).
    """
    if bits not in (4, 8):
        raise ValueError(f"bits must be 4 or 8, got {bits}")
    out_features, in_features = intweight.shape
    if in_features % 32 or out_features % 32:
        raise ValueError(f"GPTQ packing needs in and out features divisible by 32, got [{out_features}, "
                         f"{in_features}]")
    per_word = 32 // bits
    _check_codes("GPTQ intweight", intweight, bits)
    stored_zeros = zeros.to(torch.int64) - 1
    _check_codes("GPTQ v1 zeros - 1", stored_zeros, bits)
    qweight = _pack_fields(intweight.t().reshape(in_features // per_word, per_word, out_features)
                           .transpose(1, 2), bits)
    qzeros = _pack_fields(stored_zeros.reshape(zeros.shape[0], out_features // per_word, per_word), bits)
    return {"qweight": qweight.contiguous(), "qzeros": qzeros.contiguous(),
            "scales": scales.to(torch.float16).contiguous(), "g_idx": g_idx.to(torch.int32).contiguous()}


def unpack_gptq_ints(qweight: torch.Tensor, qzeros: torch.Tensor, bits: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(intweight [out, in], zeros [groups, out]) of a v1 GPTQ pair, zeros + 1 already added."""
    rows, out_features = qweight.shape
    weight = _unpack_fields(qweight, bits)  # [rows, out, 32/bits]
    intweight = weight.permute(0, 2, 1).reshape(rows * 32 // bits, out_features).t()
    zeros = _unpack_fields(qzeros, bits).reshape(qzeros.shape[0], -1) + 1
    return intweight.contiguous(), zeros


def unpack_gptq(
    qweight: torch.Tensor, qzeros: torch.Tensor, scales: torch.Tensor, g_idx: torch.Tensor, bits: int
) -> torch.Tensor:
    """Dequantized f32 [out, in] of a v1 GPTQ linear, as QuantLinear.forward's torch path of
    qlinear_cuda.py: scales[g_idx] * (weight - (zeros + 1)[g_idx]) (in f32, which is exact)."""
    intweight, zeros = unpack_gptq_ints(qweight, qzeros, bits)
    return dequantize_groupwise(intweight, scales, zeros, g_idx)


# ------------------------------------------------------------------------------------------------
# AWQ (AutoAWQ, version "gemm")
# ------------------------------------------------------------------------------------------------

AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]  # from_linear's order_map: nibble i holds output column 8c + AWQ_ORDER[i]
AWQ_REVERSE_ORDER = [0, 4, 1, 5, 2, 6, 3, 7]  # packing_utils: output column 8c + k sits in nibble REVERSE[k]


def quantize_awq(w: torch.Tensor, group_size: int = 128) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """4-bit zero-point quantization of w [out, in] as AwqQuantizer.pseudo_quantize_tensor (zero_point=True).

    Returns (intweight [out, in] int32, scales [groups, out] f16, zeros [groups, out] int32), transposed
    to [groups, out] as _apply_quant does for "gemm". Unlike GPTQ the range is [min(w), max(w)] (0 need
    not be in it) and zeros may be 0. AutoAWQ computes in f16; here the scale is computed in f32 and
    rounded to f16, and zeros and codes use the rounded scale.
    """
    w = w.detach().float()
    out_features, in_features = w.shape
    size = in_features if group_size == -1 else group_size
    if size <= 0 or in_features % size:
        raise ValueError(f"AWQ needs in_features ({in_features}) divisible by group_size ({group_size})")
    groups = w.reshape(-1, size)
    max_val = groups.amax(dim=1, keepdim=True)
    min_val = groups.amin(dim=1, keepdim=True)
    max_int, min_int = 15, 0
    scales = _f16_scales((max_val - min_val).clamp(min=1e-5) / max_int, "quantize_awq")
    s = scales.float()
    zeros = (-torch.round(min_val / s)).clamp_(min_int, max_int)
    intweight = torch.clamp(torch.round(groups / s) + zeros, min_int, max_int)
    return (intweight.reshape(out_features, in_features).to(torch.int32),
            scales.reshape(out_features, -1).t().contiguous(),
            zeros.reshape(out_features, -1).t().to(torch.int32).contiguous())


def pack_awq(intweight: torch.Tensor, scales: torch.Tensor, zeros: torch.Tensor) -> Dict[str, torch.Tensor]:
    """WQLinear_GEMM.from_linear (gemm.py), 4 bits.

    qweight [in, out / 8] int32: word (i, c) holds intweight[8c + AWQ_ORDER[k], i] at bits [4k, 4k + 4);
    qzeros [groups, out / 8] int32: the same interleave of zeros[g, :] (stored as is, no - 1);
    scales [groups, out] f16. No g_idx: group of input channel i is i // group_size.
    """
    out_features, in_features = intweight.shape
    if out_features % 8:
        raise ValueError(f"AWQ packing needs out_features divisible by 8, got {out_features}")
    _check_codes("AWQ intweight", intweight, 4)
    _check_codes("AWQ zeros", zeros, 4)
    order = torch.tensor(AWQ_ORDER)
    qweight = _pack_fields(intweight.t().reshape(in_features, out_features // 8, 8)[:, :, order], 4)
    qzeros = _pack_fields(zeros.reshape(zeros.shape[0], out_features // 8, 8)[:, :, order], 4)
    return {"qweight": qweight.contiguous(), "qzeros": qzeros.contiguous(),
            "scales": scales.to(torch.float16).contiguous()}


def unpack_awq_ints(qweight: torch.Tensor, qzeros: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(intweight [out, in], zeros [groups, out]) of a GEMM AWQ pair: packing_utils.unpack_awq, then
    reverse_awq_order and the & 15 of dequantize_gemm."""
    reverse = torch.arange(qzeros.shape[1] * 8).view(-1, 8)[:, AWQ_REVERSE_ORDER].reshape(-1)
    iweights = _unpack_fields(qweight, 4).reshape(qweight.shape[0], -1)[:, reverse]
    izeros = _unpack_fields(qzeros, 4).reshape(qzeros.shape[0], -1)[:, reverse]
    return iweights.t().contiguous(), izeros


def unpack_awq(qweight: torch.Tensor, qzeros: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """Dequantized f32 [out, in] as packing_utils.dequantize_gemm: (iweight - izeros) * scales with the
    group rows repeated group_size = in / groups times (computed in f32, where AutoAWQ's f16 product
    could round)."""
    intweight, zeros = unpack_awq_ints(qweight, qzeros)
    in_features = qweight.shape[0]
    group_size = in_features // scales.shape[0]
    g_idx = torch.arange(in_features) // group_size
    return dequantize_groupwise(intweight, scales, zeros, g_idx)


# ------------------------------------------------------------------------------------------------
# FP8 e4m3fn
# ------------------------------------------------------------------------------------------------

FP8_E4M3_MAX = 448.0
_FP8_MIN_NORMAL_EXP = -6  # 2^-6; subnormals are m * 2^-9, m = 1..7


def _fp8_table() -> torch.Tensor:
    values = []
    for b in range(256):
        sign = -1.0 if b & 0x80 else 1.0
        exponent, mantissa = (b >> 3) & 0xF, b & 0x7
        if exponent == 0xF and mantissa == 0x7:
            values.append(math.copysign(float("nan"), sign))  # e4m3fn: no infinities, only S.1111.111 is NaN
        elif exponent == 0:
            values.append(sign * mantissa * 2.0 ** -9)
        else:
            values.append(sign * (1 + mantissa / 8) * 2.0 ** (exponent - 7))
    return torch.tensor(values, dtype=torch.float32)


FP8_E4M3_VALUES = _fp8_table()  # f32 value of every bit pattern


def fp8_decode(bits: torch.Tensor) -> torch.Tensor:
    """e4m3fn bit patterns (uint8) -> f32 values (exact)."""
    if bits.dtype != torch.uint8:
        raise TypeError(f"fp8_decode expects uint8 bit patterns, got {bits.dtype}")
    return FP8_E4M3_VALUES[bits.long()]


def fp8_encode(x: torch.Tensor) -> torch.Tensor:
    """f32 -> e4m3fn bit patterns (uint8): round to nearest even, saturate to +-448 (infinities too,
    like the satfinite conversions of CUDA/Triton), NaN -> 0x7F / 0xFF with the sign, -0 -> 0x80."""
    x = x.detach().float()
    negative = torch.signbit(x)
    nan = torch.isnan(x)
    a = torch.where(nan, torch.zeros_like(x), x.abs()).clamp(max=FP8_E4M3_MAX)
    # Quantum of a's binade (8 steps per binade); below 2^-6 the subnormal quantum 2^-9. a / quantum
    # is exact (a power-of-two scaling), so torch.round rounds the real value half to even.
    exponent = (torch.frexp(a).exponent - 1).clamp(min=_FP8_MIN_NORMAL_EXP)
    quantum = torch.ldexp(torch.ones_like(a), exponent - 3)
    rounded = torch.round(a / quantum) * quantum  # <= 448: 448 is a multiple of its binade's quantum 32
    mantissa, e = torch.frexp(rounded)  # rounded = mantissa * 2^e, mantissa in [0.5, 1)
    normal = ((e - 1 + 7) * 8 + (mantissa * 16 - 8)).to(torch.int64)  # biased exponent << 3 | 3 mantissa bits
    subnormal = (rounded * 512).to(torch.int64)  # m * 2^-9 -> m; 2^-6 gives 8 = the smallest normal's bits
    code = torch.where(rounded < 2.0 ** _FP8_MIN_NORMAL_EXP, subnormal, normal)
    code = torch.where(nan, torch.full_like(code, 0x7F), code)
    code = code | (negative.to(torch.int64) << 7)
    return code.to(torch.uint8)


def _nonzero_scale(amax: torch.Tensor, top: float) -> torch.Tensor:
    """amax / top, with 1 where amax is 0 (an all-zero block or row would otherwise divide 0 by 0)."""
    return torch.where(amax > 0, amax / top, torch.ones_like(amax))


def quantize_fp8_block(w: torch.Tensor, block: Sequence[int] = (128, 128)) -> Tuple[torch.Tensor, torch.Tensor]:
    """DeepSeek-V3 kernel.py weight_quant: per block, s = max|w| / 448, fp8 = e4m3(w / s).

    Returns (weight uint8 e4m3 [out, in], weight_scale_inv f32 [ceil(out/block[0]), ceil(in/block[1])]);
    partial blocks at the bottom and right edges have their own scales. An all-zero block gets scale 1.
    """
    w = w.detach().float()
    rows, cols = w.shape
    br, bc = block
    nr, nc = math.ceil(rows / br), math.ceil(cols / bc)
    padded = torch.zeros(nr * br, nc * bc)
    padded[:rows, :cols] = w  # zero padding does not change a block's max |w|
    amax = padded.abs().reshape(nr, br, nc, bc).amax(dim=(1, 3))
    scale = _nonzero_scale(amax, FP8_E4M3_MAX)
    return fp8_encode(w / _expand_blocks(scale, block, rows, cols)), scale


def _expand_blocks(scale: torch.Tensor, block: Sequence[int], rows: int, cols: int) -> torch.Tensor:
    return scale.repeat_interleave(block[0], 0)[:rows].repeat_interleave(block[1], 1)[:, :cols]


def dequantize_fp8_block(bits: torch.Tensor, scale_inv: torch.Tensor,
                         block: Sequence[int] = (128, 128)) -> torch.Tensor:
    """DeepSeek-V3 kernel.py weight_dequant: f32 fp8 value * scale_inv of its block."""
    rows, cols = bits.shape
    expected = (math.ceil(rows / block[0]), math.ceil(cols / block[1]))
    if tuple(scale_inv.shape) != expected:
        raise ValueError(f"weight_scale_inv shape {tuple(scale_inv.shape)} != {expected} for a [{rows}, {cols}] "
                         f"weight in {list(block)} blocks")
    return fp8_decode(bits) * _expand_blocks(scale_inv.float(), block, rows, cols)


def quantize_fp8_per_tensor(w: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """vLLM per-tensor fp8: weight_scale = max|w| / 448 (f32, shape []), fp8 = e4m3(w / weight_scale)."""
    w = w.detach().float()
    scale = _nonzero_scale(w.abs().max(), FP8_E4M3_MAX)
    return fp8_encode(w / scale), scale.reshape(())


def dequantize_fp8_per_tensor(bits: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """fp8 value * weight_scale (a scalar; shape [] or [1])."""
    if scale.numel() != 1:
        raise ValueError(f"per-tensor weight_scale must have one element, got shape {tuple(scale.shape)}")
    return fp8_decode(bits) * scale.float().reshape(())


# ------------------------------------------------------------------------------------------------
# vgcu-compile --quantize: symmetric per-output-channel int8 (w8a16) and fp8
# ------------------------------------------------------------------------------------------------


def quantize_int8_per_channel(w: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """`vgcu-compile --quantize w8a16`: scale[o] = max|w[o, :]| / 127 in f32 (1 for an all-zero row),
    q = clamp(round_half_even(w / scale), -127, 127). Returns (q int8 [out, in], scale f32 [out])."""
    w = w.detach().float()
    scale = _nonzero_scale(w.abs().amax(dim=1), 127.0)
    q = torch.clamp(torch.round(w / scale[:, None]), -127, 127).to(torch.int8)
    return q, scale


def dequantize_int8_per_channel(q: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """q * scale[o] in f32."""
    return q.float() * scale.float()[:, None]


def quantize_fp8_per_channel(w: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """`vgcu-compile --quantize fp8`: scale[o] = max|w[o, :]| / 448 in f32 (1 for an all-zero row),
    fp8 = e4m3(w / scale). Returns (bits uint8 [out, in], scale f32 [out])."""
    w = w.detach().float()
    scale = _nonzero_scale(w.abs().amax(dim=1), FP8_E4M3_MAX)
    return fp8_encode(w / scale[:, None]), scale


def dequantize_fp8_per_channel(bits: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """fp8 value * scale[o] in f32."""
    return fp8_decode(bits) * scale.float()[:, None]


# ------------------------------------------------------------------------------------------------
# Whole checkpoints
# ------------------------------------------------------------------------------------------------


def gptq_config(bits: int, group_size: int, desc_act: bool, sym: bool) -> dict:
    """config.json quantization_config of an AutoGPTQ (v1 format) checkpoint."""
    return {"quant_method": "gptq", "bits": bits, "group_size": group_size, "desc_act": desc_act, "sym": sym,
            "checkpoint_format": "gptq", "damp_percent": 0.01, "true_sequential": True, "static_groups": False}


def awq_config(group_size: int, modules_to_not_convert: Optional[Sequence[str]] = None) -> dict:
    """config.json quantization_config of an AutoAWQ GEMM checkpoint."""
    return {"quant_method": "awq", "bits": 4, "group_size": group_size, "zero_point": True, "version": "gemm",
            "modules_to_not_convert": list(modules_to_not_convert) if modules_to_not_convert else None}


def fp8_config(scheme: str, block: Sequence[int] = (128, 128), skipped: Sequence[str] = ()) -> dict:
    """config.json quantization_config of an fp8 checkpoint: DeepSeek-V3 / HF FineGrainedFP8 blocks
    (skipped modules as modules_to_not_convert) or vLLM per-tensor (skipped modules as ignored_layers)."""
    if scheme == "block":
        config = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                  "weight_block_size": list(block)}
        if skipped:
            config["modules_to_not_convert"] = list(skipped)
        return config
    if scheme == "tensor":
        config = {"quant_method": "fp8", "activation_scheme": "dynamic"}
        if skipped:
            config["ignored_layers"] = list(skipped)
        return config
    raise ValueError(f"unknown fp8 scheme {scheme!r}; use block or tensor")


def dequantize_checkpoint(
    tensors: Mapping[str, torch.Tensor], quantization_config: Mapping, dtypes: Optional[Mapping[str, str]] = None
) -> Dict[str, torch.Tensor]:
    """Float checkpoint (dequantized weights in f32, other tensors unchanged) of a GPTQ, AWQ or fp8 one.

    Quantized linears are recognised by their tensors: ``P.qweight`` (GPTQ: with qzeros, scales, g_idx;
    AWQ: qzeros, scales) and ``P.weight`` with ``P.weight_scale_inv`` (blocks) or ``P.weight_scale``
    (per tensor). ``dtypes`` (safetensors_io.checkpoint_dtypes) must then say F8_E4M3 for ``P.weight``.
    """
    method = quantization_config.get("quant_method")
    components = {}  # tensor name -> prefix of the quantized linear it belongs to
    for name in tensors:
        prefix, _, leaf = name.rpartition(".")
        if leaf == "qweight":
            leaves = ("qweight", "qzeros", "scales") + (("g_idx",) if method == "gptq" else ())
        elif leaf in ("weight_scale_inv", "weight_scale"):
            leaves = ("weight", leaf, "input_scale")
        else:
            continue
        components.update({f"{prefix}.{k}": prefix for k in leaves if f"{prefix}.{k}" in tensors})
    out: Dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        prefix = components.get(name)
        if prefix is None:
            out[name] = tensor
        elif f"{prefix}.weight" not in out:  # the dequantized weight takes its first tensor's place
            out[f"{prefix}.weight"] = _dequantize_linear(tensors, prefix, method, quantization_config, dtypes)
    return out


def _dequantize_linear(tensors, prefix, method, quantization_config, dtypes) -> torch.Tensor:
    if f"{prefix}.qweight" in tensors:
        qweight, qzeros, scales = (tensors[f"{prefix}.{k}"] for k in ("qweight", "qzeros", "scales"))
        if method == "gptq":
            if quantization_config.get("checkpoint_format", "gptq") != "gptq":
                raise ValueError("only GPTQ checkpoint_format 'gptq' (v1) is supported")
            return unpack_gptq(qweight, qzeros, scales, tensors[f"{prefix}.g_idx"], int(quantization_config["bits"]))
        if method == "awq":
            return unpack_awq(qweight, qzeros, scales)
        raise ValueError(f"{prefix}.qweight in a {method!r} checkpoint")
    if (dtypes or {}).get(f"{prefix}.weight") != "F8_E4M3":
        raise ValueError(f"{prefix}.weight: expected an F8_E4M3 tensor next to its scale")
    if f"{prefix}.weight_scale_inv" in tensors:
        block = quantization_config.get("weight_block_size") or (128, 128)
        return dequantize_fp8_block(tensors[f"{prefix}.weight"], tensors[f"{prefix}.weight_scale_inv"], block)
    return dequantize_fp8_per_tensor(tensors[f"{prefix}.weight"], tensors[f"{prefix}.weight_scale"])


__all__ = [
    "AWQ_ORDER",
    "AWQ_REVERSE_ORDER",
    "FP8_E4M3_MAX",
    "FP8_E4M3_VALUES",
    "awq_config",
    "dequantize_checkpoint",
    "dequantize_fp8_block",
    "dequantize_fp8_per_channel",
    "dequantize_fp8_per_tensor",
    "dequantize_groupwise",
    "dequantize_int8_per_channel",
    "fp8_config",
    "fp8_decode",
    "fp8_encode",
    "gptq_config",
    "gptq_g_idx",
    "group_count",
    "pack_awq",
    "pack_gptq",
    "quantize_awq",
    "quantize_fp8_block",
    "quantize_fp8_per_channel",
    "quantize_fp8_per_tensor",
    "quantize_groupwise",
    "quantize_int8_per_channel",
    "unpack_awq",
    "unpack_awq_ints",
    "unpack_gptq",
    "unpack_gptq_ints",
]
