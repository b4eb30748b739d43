"""Tests of the quantized weight formats (vgcu_ref/quant.py, make_quantized_model.py, F8_E4M3 in safetensors_io).

Imported by test_reference.py (run `/usr/bin/python3 python/test_reference.py`); runs alone too.
Layouts are checked three ways: hand-computed words for tiny codes, LITERAL transcriptions of the tools'
own packing and unpacking code (AutoGPTQ qlinear_cuda.py QuantLinear.pack and its forward's torch path;
AutoAWQ gemm.py WQLinear_GEMM.from_linear and packing_utils.py dequantize_gemm), and round trips.
"""

import contextlib
import filecmp
import io
import json
import math
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_quantized_model  # noqa: E402
from vgcu_ref import kv_quant, quant  # noqa: E402
from vgcu_ref import safetensors_io as st  # noqa: E402
from vgcu_ref.checkpoint import load_model, save_model  # noqa: E402
from vgcu_ref_testing import TempDirMixin, rel_error, run_main, sequence, tiny_model  # noqa: E402

__all__ = ["GptqTest", "AwqTest", "Fp8Test", "PerChannelTest", "SafetensorsFp8Test", "QuantizedModelCliTest",
           "KvCacheRoundTripTest"]


def u32(word: int) -> int:
    """The int32 a tool stores for the uint32 ``word``."""
    return word - 2 ** 32 if word >= 2 ** 31 else word


# ------------------------------------------------------------------------------------------------
# Literal transcriptions of the tools' code (torch/numpy on CPU; device moves and unused bit widths dropped)
# ------------------------------------------------------------------------------------------------


def autogptq_pack(W, scales, zeros, g_idx, bits):
    """AutoGPTQ qlinear_cuda.py QuantLinear.pack: W [out, in] float, scales/zeros [out, groups]
    (as fasterquant returns them), g_idx [in]. Returns (qweight, qzeros, scales, g_idx)."""
    infeatures = W.shape[1]
    scales = scales.t().contiguous()
    zeros = zeros.t().contiguous()
    scale_zeros = zeros * scales
    self_scales = scales.clone().half()
    intweight = []
    for idx in range(infeatures):
        intweight.append(
            torch.round((W[:, idx] + scale_zeros[g_idx[idx]]) / self_scales[g_idx[idx]]).to(torch.int)[:, None]
        )
    intweight = torch.cat(intweight, dim=1)
    intweight = intweight.t().contiguous()
    intweight = intweight.numpy().astype(np.uint32)

    i = 0
    row = 0
    qweight = np.zeros((intweight.shape[0] // 32 * bits, intweight.shape[1]), dtype=np.uint32)
    while row < qweight.shape[0]:
        for j in range(i, i + (32 // bits)):
            qweight[row] |= intweight[j] << (bits * (j - i))
        i += 32 // bits
        row += 1
    qweight = qweight.astype(np.int32)

    zeros -= 1
    zeros = zeros.numpy().astype(np.uint32)
    qzeros = np.zeros((zeros.shape[0], zeros.shape[1] // 32 * bits), dtype=np.uint32)
    i = 0
    col = 0
    while col < qzeros.shape[1]:
        for j in range(i, i + (32 // bits)):
            qzeros[:, col] |= zeros[:, j] << (bits * (j - i))
        i += 32 // bits
        col += 1
    qzeros = qzeros.astype(np.int32)
    return torch.from_numpy(qweight), torch.from_numpy(qzeros), self_scales, g_idx


def autogptq_dequantize(qweight, qzeros, scales, g_idx, bits):
    """The weights of AutoGPTQ qlinear_cuda.py QuantLinear.forward's torch path, [in, out] (the scales
    upcast to f32 so that the product is exact; the tool multiplies in f16)."""
    wf = torch.tensor(list(range(0, 32, bits)), dtype=torch.int32).unsqueeze(0)
    zeros = torch.bitwise_right_shift(
        torch.unsqueeze(qzeros, 2).expand(-1, -1, 32 // bits),
        wf.unsqueeze(0),
    ).to(torch.int16 if bits == 8 else torch.int8)
    zeros = torch.bitwise_and(zeros, (2 ** bits) - 1)
    zeros = zeros + 1
    zeros = zeros.reshape(scales.shape)
    weight = torch.bitwise_right_shift(
        torch.unsqueeze(qweight, 1).expand(-1, 32 // bits, -1),
        wf.unsqueeze(-1),
    ).to(torch.int16 if bits == 8 else torch.int8)
    weight = torch.bitwise_and(weight, (2 ** bits) - 1)
    weight = weight.reshape(weight.shape[0] * weight.shape[1], weight.shape[2])
    return scales.float()[g_idx.long()] * (weight - zeros[g_idx.long()])


def autoawq_from_linear(weight, group_size, scales, zeros):
    """AutoAWQ gemm.py WQLinear_GEMM.from_linear, w_bit 4: weight [out, in], scales/zeros [groups, out]."""
    w_bit = 4
    scale_zeros = zeros * scales
    awq_scales = scales.clone().half()
    pack_num = 32 // w_bit
    intweight = []
    for idx in range(weight.shape[1]):
        intweight.append(
            torch.round(
                (weight[:, idx] + scale_zeros[idx // group_size]) / awq_scales[idx // group_size]
            ).to(torch.int)[:, None]
        )
    intweight = torch.cat(intweight, dim=1)
    intweight = intweight.t().contiguous()
    intweight = intweight.to(dtype=torch.int32)
    qweight = torch.zeros((intweight.shape[0], intweight.shape[1] // 32 * w_bit), dtype=torch.int32)
    for col in range(intweight.shape[1] // pack_num):
        order_map = [0, 2, 4, 6, 1, 3, 5, 7]
        for i in range(pack_num):
            qweight_col = intweight[:, col * pack_num + order_map[i]]
            qweight[:, col] |= qweight_col << (i * w_bit)
    zeros = zeros.to(dtype=torch.int32)
    qzeros = torch.zeros((zeros.shape[0], zeros.shape[1] // 32 * w_bit), dtype=torch.int32)
    for col in range(zeros.shape[1] // pack_num):
        order_map = [0, 2, 4, 6, 1, 3, 5, 7]
        for i in range(pack_num):
            qzero_col = zeros[:, col * pack_num + order_map[i]]
            qzeros[:, col] |= qzero_col << (i * w_bit)
    return qweight, qzeros, awq_scales


def autoawq_dequantize_gemm(qweight, qzeros, scales, bits, group_size):
    """AutoAWQ packing_utils.py dequantize_gemm (unpack_awq + reverse_awq_order), [in, out]; scales
    upcast to f32 as above."""
    shifts = torch.arange(0, 32, bits)
    iweights = torch.bitwise_right_shift(qweight[:, :, None], shifts[None, None, :]).to(torch.int8)
    iweights = iweights.view(iweights.shape[0], -1)
    izeros = torch.bitwise_right_shift(qzeros[:, :, None], shifts[None, None, :]).to(torch.int8)
    izeros = izeros.view(izeros.shape[0], -1)
    reverse_order_tensor = torch.arange(izeros.shape[-1], dtype=torch.int32)
    reverse_order_tensor = reverse_order_tensor.view(-1, 32 // bits)
    reverse_order_tensor = reverse_order_tensor[:, [0, 4, 1, 5, 2, 6, 3, 7]]
    reverse_order_tensor = reverse_order_tensor.view(-1).long()  # torch 1.13 indexes with int64 only
    izeros = izeros[:, reverse_order_tensor]
    iweights = iweights[:, reverse_order_tensor]
    iweight = torch.bitwise_and(iweights, (2 ** bits) - 1)
    izeros = torch.bitwise_and(izeros, (2 ** bits) - 1)
    scales = scales.float().repeat_interleave(group_size, dim=0)
    izeros = izeros.repeat_interleave(group_size, dim=0)
    return (iweight - izeros) * scales


def random_weight(out_features, in_features, seed=0):
    return torch.randn(out_features, in_features, generator=torch.Generator().manual_seed(seed)) * 0.05


# ------------------------------------------------------------------------------------------------


class GptqTest(unittest.TestCase):
    def test_hand_computed_words(self):
        # 4 bits: word (r, o) holds input channels 8r..8r+7 of output o, channel 8r+j at bits 4j.
        intweight = torch.zeros(32, 32, dtype=torch.int32)
        intweight[0::2] = torch.arange(32) % 8  # even outputs: 0,1,..,7 -> 0x76543210
        intweight[1::2] = torch.arange(32) % 8 + 8  # odd outputs: 8..15 -> 0xFEDCBA98 (negative int32)
        zeros = (torch.arange(32, dtype=torch.int32) % 8 + 1).repeat(2, 1)  # v1 stores 0..7 -> 0x76543210
        scales = torch.ones(2, 32, dtype=torch.float16)
        packed = quant.pack_gptq(intweight, scales, zeros, quant.gptq_g_idx(32, 16), bits=4)
        self.assertEqual(tuple(packed["qweight"].shape), (4, 32))
        self.assertEqual(tuple(packed["qzeros"].shape), (2, 4))
        self.assertTrue(bool((packed["qweight"][:, 0::2] == u32(0x76543210)).all()))
        self.assertTrue(bool((packed["qweight"][:, 1::2] == u32(0xFEDCBA98)).all()))
        self.assertTrue(bool((packed["qzeros"] == u32(0x76543210)).all()))
        self.assertEqual(packed["g_idx"].tolist(), [0] * 16 + [1] * 16)
        # 8 bits: four channels per word, channel 4r+j at bits 8j.
        intweight = (torch.arange(32, dtype=torch.int32) % 4 * 0x11).repeat(32, 1)
        intweight[5, 3] = 0xFF
        sym_zeros = torch.full((1, 32), 128, dtype=torch.int32)  # sym 8 bits: zero 128, stored 127
        packed = quant.pack_gptq(intweight, torch.ones(1, 32, dtype=torch.float16), sym_zeros,
                                 quant.gptq_g_idx(32, -1), bits=8)
        self.assertEqual(tuple(packed["qweight"].shape), (8, 32))
        self.assertEqual(packed["qweight"][1, 0].item(), 0x33221100)
        self.assertEqual(packed["qweight"][0, 5].item(), u32(0xFF221100))
        self.assertTrue(bool((packed["qzeros"] == 0x7F7F7F7F).all()))

    def test_find_params_by_hand(self):
        w = torch.zeros(32, 32)
        w[0, :2] = torch.tensor([-1.0, 2.0])
        q, scales, zeros, _ = quant.quantize_groupwise(w, bits=4, group_size=-1, sym=False)
        self.assertEqual(scales[0, 0].item(), float(torch.tensor(3.0 / 15).half()))  # (xmax - xmin) / maxq
        self.assertEqual(zeros[0, 0].item(), 5)  # round(-xmin / scale)
        self.assertEqual(q[0, :3].tolist(), [0, 15, 5])
        self.assertEqual(zeros[0, 1].item(), 7)  # an all-zero row: xmin, xmax = -1, +1; 1 / (2/15) = 7.4999996
        q, scales, zeros, _ = quant.quantize_groupwise(w, bits=4, group_size=-1, sym=True)
        self.assertEqual(scales[0, 0].item(), float(torch.tensor(4.0 / 15).half()))  # [-max|w|, max|w|]
        self.assertEqual(zeros[:, 0].tolist(), [8])  # (maxq + 1) / 2
        self.assertEqual(q[0, :3].tolist(), [4, 15, 8])  # 2 / (4/15) = 7.5 -> 8 + 8 = 16, clamped

    def test_round_trips_match_autogptq(self):
        for bits in (4, 8):
            for group_size in (32, -1):
                for desc_act in (False, True):
                    for sym in (True, False):
                        with self.subTest(bits=bits, group_size=group_size, desc_act=desc_act, sym=sym):
                            self.check_round_trip(bits, group_size, desc_act, sym)

    def check_round_trip(self, bits, group_size, desc_act, sym):
        w = random_weight(64, 96, seed=bits + group_size)
        generator = torch.Generator().manual_seed(7)
        q, scales, zeros, g_idx = quant.quantize_groupwise(w, bits, group_size, sym, desc_act, generator)
        groups = 3 if group_size == 32 else 1
        self.assertEqual((tuple(q.shape), tuple(scales.shape), tuple(zeros.shape), tuple(g_idx.shape)),
                         ((64, 96), (groups, 64), (groups, 64), (96,)))
        self.assertEqual((scales.dtype, g_idx.dtype), (torch.float16, torch.int32))
        size = 96 if group_size == -1 else group_size
        self.assertEqual(torch.bincount(g_idx.long()).tolist(), [size] * groups)
        if desc_act and groups > 1:
            self.assertNotEqual(g_idx.tolist(), sorted(g_idx.tolist()))
        else:
            self.assertEqual(g_idx.tolist(), [i // size for i in range(96)])
        if sym:
            self.assertTrue(bool((zeros == 2 ** (bits - 1)).all()))
        want = quant.dequantize_groupwise(q, scales, zeros, g_idx)
        # round to nearest: within half a step, also at the clamped +max|w| of sym
        step = scales.float()[g_idx.long()].t()
        # (plus 2^bits f16 roundings: the codes use the f16-rounded scale, the zero the f32 one)
        self.assertLessEqual(float(((want - w).abs() / step).max()), 0.5 + 2 ** bits * 2 ** -11)

        packed = quant.pack_gptq(q, scales, zeros, g_idx, bits)
        self.assertEqual(tuple(packed["qweight"].shape), (96 * bits // 32, 64))
        self.assertEqual(tuple(packed["qzeros"].shape), (groups, 64 * bits // 32))
        self.assertTrue(torch.equal(quant.unpack_gptq(**packed, bits=bits), want))
        ints, unpacked_zeros = quant.unpack_gptq_ints(packed["qweight"], packed["qzeros"], bits)
        self.assertTrue(torch.equal(ints, q) and torch.equal(unpacked_zeros, zeros))

        # AutoGPTQ packs the dequantized weight with fasterquant's [out, groups] scale and zero
        qweight, qzeros, tool_scales, _ = autogptq_pack(want, scales.float().t(), zeros.t().float(), g_idx.long(),
                                                        bits)
        self.assertTrue(torch.equal(packed["qweight"], qweight))
        self.assertTrue(torch.equal(packed["qzeros"], qzeros))
        self.assertTrue(torch.equal(packed["scales"], tool_scales))
        self.assertTrue(torch.equal(autogptq_dequantize(qweight, qzeros, tool_scales, g_idx, bits).t(), want))

    def test_v1_cannot_store_a_zero_of_zero(self):
        w = random_weight(32, 32).abs()  # all positive: asym zero = round(-0 / scale) = 0
        q, scales, zeros, g_idx = quant.quantize_groupwise(w, 4, -1, sym=False)
        self.assertEqual(zeros.min().item(), 0)
        with self.assertRaisesRegex(ValueError, "zeros - 1"):
            quant.pack_gptq(q, scales, zeros, g_idx, 4)

    def test_shapes_are_checked(self):
        q, scales, zeros, g_idx = quant.quantize_groupwise(random_weight(40, 64), 4, 32)
        with self.assertRaisesRegex(ValueError, "divisible by 32"):
            quant.pack_gptq(q, scales, zeros, g_idx, 4)
        with self.assertRaisesRegex(ValueError, "bits"):
            quant.quantize_groupwise(random_weight(32, 32), 3, 32)


class AwqTest(unittest.TestCase):
    def test_hand_computed_interleave(self):
        # output column 8c + k sits in nibble AWQ_REVERSE_ORDER[k]: values k give nibbles 0,2,4,6,1,3,5,7
        intweight = (torch.arange(16, dtype=torch.int32) % 8)[:, None].repeat(1, 32)  # [out 16, in 32]
        zeros = torch.tensor([[15, 1, 2, 3, 4, 5, 6, 0] * 2], dtype=torch.int32)  # zeros stored as is
        packed = quant.pack_awq(intweight, torch.ones(1, 16, dtype=torch.float16), zeros)
        self.assertEqual(tuple(packed["qweight"].shape), (32, 2))
        self.assertTrue(bool((packed["qweight"] == 0x75316420).all()))
        # nibbles (low first): columns 0,2,4,6,1,3,5,7 -> 15,2,4,6,1,3,5,0
        self.assertEqual(packed["qzeros"].tolist(), [[0x0531642F] * 2])
        one_hot = torch.zeros(8, 32, dtype=torch.int32)
        one_hot[1, 0] = 9  # output 1 -> nibble 4
        word = quant.pack_awq(one_hot, torch.ones(1, 8, dtype=torch.float16),
                              torch.zeros(1, 8, dtype=torch.int32))["qweight"][0, 0].item()
        self.assertEqual(word, 9 << 16)
        ints, izeros = quant.unpack_awq_ints(packed["qweight"], packed["qzeros"])
        self.assertTrue(torch.equal(ints, intweight) and torch.equal(izeros, zeros))

    def test_quantizer_by_hand(self):
        w = torch.zeros(8, 32)
        w[0, :2] = torch.tensor([-1.0, 2.0])
        w[1, :] = 1.0  # constant row: min = max, the scale clamps to 1e-5 / 15
        q, scales, zeros = quant.quantize_awq(w, group_size=32)
        scale = float(torch.tensor(3.0 / 15).half())
        self.assertEqual(scales[0, 0].item(), scale)
        self.assertEqual(zeros[0, 0].item(), 5)  # -round(min / scale), not GPTQ's v1 zero - 1
        self.assertEqual(q[0, :3].tolist(), [0, 15, 5])
        self.assertEqual(zeros[0, 1].item(), 0)
        self.assertEqual(q[1, 0].item(), 15)

    def test_round_trip_matches_autoawq(self):
        for out_features, group_size in ((64, 32), (64, 64), (64, -1), (48, 32)):
            with self.subTest(out_features=out_features, group_size=group_size):
                w = random_weight(out_features, 64, seed=3)
                q, scales, zeros = quant.quantize_awq(w, group_size)
                size = 64 if group_size == -1 else group_size
                g_idx = torch.arange(64) // size
                want = quant.dequantize_groupwise(q, scales, zeros, g_idx)
                step = scales.float()[g_idx].t()
                self.assertLessEqual(float(((want - w).abs() / step).max()), 0.5 + 16 * 2 ** -11)
                packed = quant.pack_awq(q, scales, zeros)
                words = out_features // 8
                self.assertEqual({k: tuple(t.shape) for k, t in packed.items()},
                                 {"qweight": (64, words), "qzeros": (64 // size, words),
                                  "scales": (64 // size, out_features)})
                self.assertTrue(torch.equal(quant.unpack_awq(**packed), want))
                self.assertTrue(torch.equal(autoawq_dequantize_gemm(packed["qweight"], packed["qzeros"],
                                                                    packed["scales"], 4, size).t(), want))
                if out_features % 32:
                    continue  # from_linear sizes its words as out // 32 * 4 (the loaded module: out // 8)
                qweight, qzeros, tool_scales = autoawq_from_linear(want, size, scales.float(), zeros)
                self.assertTrue(torch.equal(packed["qweight"], qweight))
                self.assertTrue(torch.equal(packed["qzeros"], qzeros))
                self.assertTrue(torch.equal(packed["scales"], tool_scales))

    def test_shapes_are_checked(self):
        with self.assertRaisesRegex(ValueError, "divisible by group_size"):
            quant.quantize_awq(random_weight(16, 48), 32)
        q, scales, zeros = quant.quantize_awq(random_weight(12, 32), 32)
        with self.assertRaisesRegex(ValueError, "divisible by 8"):
            quant.pack_awq(q, scales, zeros)


class Fp8Test(unittest.TestCase):
    KNOWN = [  # (value, e4m3fn bits)
        (0.0, 0x00), (-0.0, 0x80), (1.0, 0x38), (-1.0, 0xB8), (1.125, 0x39), (448.0, 0x7E), (-448.0, 0xFE),
        (2.0 ** -9, 0x01), (-(2.0 ** -9), 0x81), (7 * 2.0 ** -9, 0x07), (2.0 ** -6, 0x08), (240.0, 0x77),
        (256.0, 0x78), (0.5, 0x30), (3.0, 0x44),
        # ties to even: 1.0625 between 0x38 and 0x39, 1.1875 between 0x39 and 0x3A, 1.5 * 2^-9 between
        # subnormals 1 and 2, 7.5 * 2^-9 between the largest subnormal and the smallest normal, 2^-10
        # between 0 and the smallest subnormal; 400 between 384 (0x7C) and 416 (0x7D), 432 between 0x7D and 448
        (1.0625, 0x38), (1.1875, 0x3A), (1.5 * 2.0 ** -9, 0x02), (2.5 * 2.0 ** -9, 0x02), (7.5 * 2.0 ** -9, 0x08),
        (2.0 ** -10, 0x00), (-(2.0 ** -10), 0x80), (1.0626, 0x39), (2.0 ** -11, 0x00),
        (400.0, 0x7C), (432.0, 0x7E),
        # saturation (no infinities in e4m3fn; 464 would round up to the NaN pattern's 480)
        (449.0, 0x7E), (464.0, 0x7E), (1e6, 0x7E), (float("inf"), 0x7E), (-float("inf"), 0xFE), (-500.0, 0xFE),
        (float("nan"), 0x7F),
    ]

    def test_known_values(self):
        values = torch.tensor([v for v, _ in self.KNOWN])
        got = quant.fp8_encode(values).tolist()
        for (value, bits), code in zip(self.KNOWN, got):
            self.assertEqual(code, bits, f"{value}: 0x{code:02X} != 0x{bits:02X}")
        self.assertEqual(quant.fp8_encode(torch.tensor([-float("nan")])).item(), 0xFF)
        decoded = quant.fp8_decode(torch.tensor([0x38, 0x7E, 0xFE, 0x01, 0x08, 0x80], dtype=torch.uint8))
        self.assertEqual(decoded.tolist(), [1.0, 448.0, -448.0, 2.0 ** -9, 2.0 ** -6, 0.0])
        self.assertTrue(math.copysign(1.0, decoded[5].item()) < 0)
        nan = quant.fp8_decode(torch.tensor([0x7F, 0xFF], dtype=torch.uint8))
        self.assertTrue(bool(torch.isnan(nan).all()))

    def test_every_pattern_round_trips_and_rounding_is_nearest(self):
        codes = torch.arange(256).to(torch.uint8)
        self.assertTrue(torch.equal(quant.fp8_encode(quant.fp8_decode(codes)), codes))
        finite = quant.FP8_E4M3_VALUES[~torch.isnan(quant.FP8_E4M3_VALUES)]
        self.assertEqual((finite.numel(), float(finite.max()), float(finite[finite > 0].min())),
                         (254, 448.0, 2.0 ** -9))
        g = torch.Generator().manual_seed(0)
        x = torch.randn(4000, generator=g) * torch.exp(torch.randn(4000, generator=g) * 4)
        clamped = x.clamp(-448, 448)
        nearest = (clamped[:, None] - finite[None, :]).abs().min(dim=1).values
        err = (quant.fp8_decode(quant.fp8_encode(x)) - clamped).abs()
        self.assertTrue(torch.equal(err, nearest))

    def test_block_scales(self):
        w = random_weight(200, 300, seed=5)  # 2 x 3 blocks of 128, partial at the bottom and right
        w[128:, 256:] = 0.0  # the bottom right (partial) block is all zero
        bits, scale_inv = quant.quantize_fp8_block(w)
        self.assertEqual((bits.dtype, tuple(bits.shape), scale_inv.dtype, tuple(scale_inv.shape)),
                         (torch.uint8, (200, 300), torch.float32, (2, 3)))
        for r in range(2):
            for c in range(3):
                block = w[r * 128:(r + 1) * 128, c * 128:(c + 1) * 128]
                amax = block.abs().max()
                self.assertEqual(scale_inv[r, c].item(), (amax / 448.0).item() if amax else 1.0)  # f32 division
        self.assertEqual(int((bits[:128, :128] & 0x7F).max()), 0x7E)  # each block's max |w| -> 448
        self.assertEqual((scale_inv[1, 2].item(), int(bits[128:, 256:].max())), (1.0, 0))
        dequantized = quant.dequantize_fp8_block(bits, scale_inv)
        expanded = scale_inv.repeat_interleave(128, 0)[:200].repeat_interleave(128, 1)[:, :300]
        self.assertTrue(torch.equal(dequantized, quant.fp8_decode(bits) * expanded))
        self.assertLessEqual(rel_error(dequantized, w), 2 ** -4)  # 3 mantissa bits
        small = quant.quantize_fp8_block(w, block=(16, 32))[1]
        self.assertEqual(tuple(small.shape), (13, 10))
        with self.assertRaisesRegex(ValueError, "weight_scale_inv shape"):
            quant.dequantize_fp8_block(bits, small)

    def test_per_tensor(self):
        w = random_weight(24, 40, seed=6)
        bits, scale = quant.quantize_fp8_per_tensor(w)
        self.assertEqual((tuple(scale.shape), scale.dtype), ((), torch.float32))
        self.assertEqual(scale.item(), (w.abs().max() / 448.0).item())
        self.assertEqual(int((bits & 0x7F).max()), 0x7E)
        self.assertTrue(torch.equal(quant.dequantize_fp8_per_tensor(bits, scale), quant.fp8_decode(bits) * scale))
        self.assertTrue(torch.equal(quant.dequantize_fp8_per_tensor(bits, scale.reshape(1)),
                                    quant.dequantize_fp8_per_tensor(bits, scale)))


class PerChannelTest(unittest.TestCase):
    def test_int8(self):
        w = torch.tensor([[127.0, 63.5, -0.5, 0.5, 1.5, -2.5], [0.0] * 6, [-2.54, 1.27, 0.0, 0.0, 0.0, 0.0]])
        q, scale = quant.quantize_int8_per_channel(w)
        self.assertEqual((q.dtype, scale.dtype), (torch.int8, torch.float32))
        self.assertEqual(scale[:2].tolist(), [1.0, 1.0])  # an all-zero row gets scale 1
        self.assertEqual(q[0].tolist(), [127, 64, 0, 0, 2, -2])  # half to even
        self.assertEqual(q[1].tolist(), [0] * 6)
        self.assertEqual(scale[2].item(), float(torch.tensor(2.54) / 127))  # f32 division
        self.assertEqual(q[2, :2].tolist(), [-127, 64])  # 1.27 / 0.02 = 63.5000... in f32
        self.assertTrue(torch.equal(quant.dequantize_int8_per_channel(q, scale), q.float() * scale[:, None]))
        w = random_weight(16, 64, seed=8)
        q, scale = quant.quantize_int8_per_channel(w)
        self.assertEqual(q.abs().amax(dim=1).tolist(), [127] * 16)
        err = (quant.dequantize_int8_per_channel(q, scale) - w).abs() / scale[:, None]
        self.assertLessEqual(float(err.max()), 0.5 + 1e-6)

    def test_fp8(self):
        w = random_weight(16, 64, seed=9)
        w[3] = 0.0
        bits, scale = quant.quantize_fp8_per_channel(w)
        self.assertEqual(tuple(scale.shape), (16,))
        self.assertEqual(scale[3].item(), 1.0)
        self.assertEqual(scale[0].item(), (w[0].abs().max() / 448.0).item())
        self.assertEqual((bits & 0x7F).amax(dim=1).tolist(), [0x7E] * 3 + [0] + [0x7E] * 12)
        self.assertTrue(torch.equal(quant.dequantize_fp8_per_channel(bits, scale),
                                    quant.fp8_decode(bits) * scale[:, None]))


class SafetensorsFp8Test(TempDirMixin, unittest.TestCase):
    def test_f8_e4m3_round_trip(self):
        bits = quant.fp8_encode(torch.tensor([[1.0, -448.0], [2.0 ** -9, 0.0]]))
        tensors = {"w": bits, "u": torch.arange(3).to(torch.uint8), "s": torch.ones(1, 1)}
        path = os.path.join(self.tmp, "x.safetensors")
        st.save_file(tensors, path, dtypes={"w": "F8_E4M3"})
        self.assertEqual(st.read_dtypes(path), {"w": "F8_E4M3", "u": "U8", "s": "F32"})
        loaded = st.load_file(path)
        self.assertEqual(loaded["w"].dtype, torch.uint8)
        self.assertTrue(torch.equal(loaded["w"], bits) and torch.equal(loaded["u"], tensors["u"]))
        st.save_checkpoint(tensors, self.tmp, num_shards=2, dtypes={"w": "F8_E4M3"})
        self.assertEqual(st.checkpoint_dtypes(self.tmp)["w"], "F8_E4M3")
        with self.assertRaisesRegex(st.SafetensorsError, "cannot store"):
            st.save_file({"s": torch.ones(2)}, path, dtypes={"s": "F8_E4M3"})


class QuantizedModelCliTest(TempDirMixin, unittest.TestCase):
    def make(self, arch="llama", **overrides):
        src = os.path.join(self.tmp, "float")
        save_model(tiny_model(arch, **overrides), src, torch.bfloat16, num_shards=2)
        with open(os.path.join(src, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": 1}, f)
        return src

    def quantize(self, src, name, *options, reference=True):
        dst, ref = os.path.join(self.tmp, name), os.path.join(self.tmp, name + "-ref")
        code, text = run_main(make_quantized_model.main,
                              [src, dst, *options] + (["--dequantized", ref] if reference else []))
        self.assertEqual(code, 0, text)
        return dst, ref

    def check_reference(self, dst, ref, src):
        """The dequantized checkpoint equals --dequantized, which loads and stays near the float model."""
        with open(os.path.join(dst, "config.json")) as f:
            config = json.load(f)
        tensors = st.load_checkpoint(dst)
        dequantized = quant.dequantize_checkpoint(tensors, config["quantization_config"], st.checkpoint_dtypes(dst))
        reference = st.load_checkpoint(ref)
        self.assertEqual(list(dequantized), list(reference))
        for name, t in reference.items():
            self.assertTrue(torch.equal(dequantized[name], t), name)
        with open(os.path.join(ref, "config.json")) as f:
            self.assertNotIn("quantization_config", json.load(f))
        for model_dir in (dst, ref):
            self.assertTrue(filecmp.cmp(os.path.join(src, "generation_config.json"),
                                        os.path.join(model_dir, "generation_config.json"), shallow=False))
        ids, pos = sequence(8, seed=2)
        self.assertLess(rel_error(load_model(ref)(ids, pos), load_model(src)(ids, pos)), 0.5)
        return config, tensors

    def test_gptq(self):
        src = self.make()
        dst, ref = self.quantize(src, "gptq", "--format", "gptq", "--desc-act", "--seed", "3")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual(config["quantization_config"], {
            "quant_method": "gptq", "bits": 4, "group_size": 32, "desc_act": True, "sym": True,
            "checkpoint_format": "gptq", "damp_percent": 0.01, "true_sequential": True, "static_groups": False})
        self.assertEqual(config["torch_dtype"], "bfloat16")
        p = "model.layers.1.mlp.down_proj."  # [64, 128]
        self.assertEqual({k: (tuple(tensors[p + k].shape), tensors[p + k].dtype) for k in
                          ("qweight", "qzeros", "scales", "g_idx")},
                         {"qweight": ((16, 64), torch.int32), "qzeros": ((4, 8), torch.int32),
                          "scales": ((4, 64), torch.float16), "g_idx": ((128,), torch.int32)})
        self.assertNotIn(p + "weight", tensors)
        self.assertEqual(tensors["model.norm.weight"].dtype, torch.bfloat16)  # everything else as is
        self.assertEqual(len([n for n in tensors if n.endswith(".qweight")]), 14)
        # deterministic for a seed, different for another
        again, _ = self.quantize(src, "gptq-again", "--format", "gptq", "--desc-act", "--seed", "3", reference=False)
        other, _ = self.quantize(src, "gptq-other", "--format", "gptq", "--desc-act", "--seed", "4", reference=False)
        for shard in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
            self.assertTrue(filecmp.cmp(os.path.join(dst, shard), os.path.join(again, shard), shallow=False))
        self.assertFalse(torch.equal(tensors[p + "g_idx"], st.load_checkpoint(other)[p + "g_idx"]))
        # 8-bit asymmetric, one group per row: g_idx is written too
        dst, ref = self.quantize(src, "gptq8", "--format", "gptq", "--bits", "8", "--group-size", "-1", "--asym")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual((config["quantization_config"]["bits"], config["quantization_config"]["group_size"],
                          config["quantization_config"]["sym"]), (8, -1, False))
        self.assertEqual(tuple(tensors[p + "qweight"].shape), (32, 64))
        self.assertEqual(tensors[p + "g_idx"].tolist(), [0] * 128)

    def test_awq(self):
        src = self.make("qwen2")  # q/k/v biases are kept
        dst, ref = self.quantize(src, "awq", "--format", "awq", "--group-size", "64")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual(config["quantization_config"], {
            "quant_method": "awq", "bits": 4, "group_size": 64, "zero_point": True, "version": "gemm",
            "modules_to_not_convert": None})
        p = "model.layers.0.self_attn.k_proj."  # [32, 64]
        self.assertEqual({k: tuple(tensors[p + k].shape) for k in ("qweight", "qzeros", "scales")},
                         {"qweight": (64, 4), "qzeros": (1, 4), "scales": (1, 32)})
        self.assertNotIn(p + "g_idx", tensors)
        self.assertEqual(tensors[p + "bias"].dtype, torch.bfloat16)

    def test_fp8(self):
        src = self.make()
        dst, ref = self.quantize(src, "fp8", "--format", "fp8")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual(config["quantization_config"], {
            "quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic", "weight_block_size": [128, 128]})
        p = "model.layers.0.mlp.gate_proj."  # [128, 64]
        dtypes = st.checkpoint_dtypes(dst)
        self.assertEqual((dtypes[p + "weight"], tuple(tensors[p + "weight"].shape)), ("F8_E4M3", (128, 64)))
        self.assertEqual((dtypes[p + "weight_scale_inv"], tuple(tensors[p + "weight_scale_inv"].shape)),
                         ("F32", (1, 1)))
        dst, ref = self.quantize(src, "fp8-small", "--format", "fp8", "--fp8-block", "48,32")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual(config["quantization_config"]["weight_block_size"], [48, 32])
        self.assertEqual(tuple(tensors[p + "weight_scale_inv"].shape), (3, 2))
        dst, ref = self.quantize(src, "fp8-tensor", "--format", "fp8", "--fp8-scheme", "tensor",
                                 "--skip-modules", "o_proj")
        config, tensors = self.check_reference(dst, ref, src)
        self.assertEqual(config["quantization_config"], {
            "quant_method": "fp8", "activation_scheme": "dynamic",
            "ignored_layers": ["model.layers.0.self_attn.o_proj", "model.layers.1.self_attn.o_proj"]})
        self.assertEqual(tuple(tensors[p + "weight_scale"].shape), ())
        self.assertEqual(tensors["model.layers.0.self_attn.o_proj.weight"].dtype, torch.bfloat16)
        self.assertNotIn("model.layers.0.self_attn.o_proj.weight_scale", tensors)

    def test_deepseek_routers_stay_float(self):
        src = self.make("DeepseekV3ForCausalLM")
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as err:
            run_main(make_quantized_model.main, [src, os.path.join(self.tmp, "x"), "--format", "gptq"])
        # kv_a_proj_with_mqa is [40, 64]: GPTQ needs multiples of 32
        self.assertIn("--skip-modules kv_a_proj_with_mqa", err.getvalue())
        dst, ref = self.quantize(src, "gptq", "--format", "gptq", "--skip-modules", "kv_a_proj_with_mqa")
        _, tensors = self.check_reference(dst, ref, src)
        routers = [n for n in tensors if n.endswith("mlp.gate.weight")]
        self.assertTrue(routers)
        for name in routers + ["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"]:
            self.assertEqual(tensors[name].dtype, torch.bfloat16, name)
        for leaf in ("q_a_proj", "q_b_proj", "kv_b_proj", "experts.0.gate_proj", "shared_experts.down_proj"):
            self.assertTrue(any(n.endswith(f"{leaf}.qweight") for n in tensors), leaf)

    def test_per_channel_references(self):
        src = self.make()
        dst, _ = self.quantize(src, "w8a16", "--format", "w8a16", reference=False)
        source, tensors = st.load_checkpoint(src), st.load_checkpoint(dst)
        self.assertEqual(list(tensors), list(source))
        name = "model.layers.0.self_attn.q_proj.weight"
        want = quant.dequantize_int8_per_channel(*quant.quantize_int8_per_channel(source[name].float()))
        self.assertTrue(torch.equal(tensors[name], want))
        self.assertTrue(torch.equal(tensors["lm_head.weight"], source["lm_head.weight"]))
        dst, _ = self.quantize(src, "fp8-channel", "--format", "fp8", "--fp8-scheme", "channel", reference=False)
        want = quant.dequantize_fp8_per_channel(*quant.quantize_fp8_per_channel(source[name].float()))
        self.assertTrue(torch.equal(st.load_checkpoint(dst)[name], want))
        with open(os.path.join(dst, "config.json")) as f:
            self.assertNotIn("quantization_config", json.load(f))



class KvCacheRoundTripTest(unittest.TestCase):
    """vgcu_ref.kv_quant: what attention reads back from vgcu's int8 / FP8 KV cache."""

    def tearDown(self):
        kv_quant.set_kv_cache_dtype("auto")

    def test_auto_leaves_values_alone(self):
        x = torch.randn(3, 2, 16)
        self.assertIs(kv_quant.round_trip(x), x)

    def test_int8_codes_by_hand(self):
        # Largest magnitude 2.54: scale 0.02, codes round(x / 0.02) (ties to even) within 127.
        x = torch.tensor([[2.54, -1.0, 0.011, 0.03]])
        scale = torch.tensor(2.54) / 127
        expected = torch.round(x / scale) * scale
        got = kv_quant.round_trip(x, "int8")
        self.assertTrue(torch.equal(got, expected))
        self.assertEqual(float(got[0, 0]), float(torch.tensor(127.0) * scale))

    def test_error_is_within_half_a_step_per_vector(self):
        torch.manual_seed(0)
        x = torch.randn(5, 4, 64) * torch.rand(5, 4, 1) * 10
        for dtype, largest in (("int8", 127.0), ("fp8_e4m3", 448.0)):
            got = kv_quant.round_trip(x, dtype)
            step = x.abs().amax(-1, keepdim=True) / largest
            # int8: half a step everywhere; e4m3: 3 mantissa bits, a sixteenth of the value
            # (or half a subnormal step, 2^-10 of the scale).
            bound = step / 2 if dtype == "int8" else torch.maximum(x.abs() / 16, step * 2.0 ** -10)
            self.assertTrue(bool(((got - x).abs() <= bound * 1.0001).all()), dtype)
            # The largest magnitude maps to the largest code and back (up to the f32 rounding of
            # amax / largest * largest).
            self.assertLess(float(rel_error(got.abs().amax(-1), x.abs().amax(-1))), 1e-6, dtype)

    def test_zero_vectors_and_dtype(self):
        x = torch.zeros(2, 8, dtype=torch.bfloat16)
        got = kv_quant.round_trip(x, "fp8_e4m3")
        self.assertEqual(got.dtype, torch.bfloat16)
        self.assertTrue(torch.equal(got, x))

    def test_process_wide_setting(self):
        x = torch.randn(2, 8)
        kv_quant.set_kv_cache_dtype("int8")
        self.assertTrue(torch.equal(kv_quant.round_trip(x), kv_quant.round_trip(x, "int8")))
        with self.assertRaises(ValueError):
            kv_quant.set_kv_cache_dtype("int4")

if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
