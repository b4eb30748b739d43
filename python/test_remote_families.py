"""Tests of the InternLM2, Baichuan (2 and 1), ChatGLM (2/3, GLM-4) and GPT-2 references.

Imported by test_reference.py (run that file); ``/usr/bin/python3 python/test_remote_families.py``
runs only these. Each family is checked against a literal transcription of its original eager code
(batched layout, the original's masks, buffers and casts), against its real checkpoint layout and
parameter count (real config.json files, models built on the meta device), and through the CLIs.
"""

import contextlib
import io
import json
import math
import os
import sys
import unittest

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_tiny_model  # noqa: E402
import run_reference  # noqa: E402
import trace_model  # noqa: E402
from vgcu_ref import safetensors_io as st  # noqa: E402
from vgcu_ref.chatglm import apply_rotary_pos_emb as chatglm_rotary  # noqa: E402
from vgcu_ref.checkpoint import load_model, load_weights, save_model  # noqa: E402
from vgcu_ref.generate import greedy_generate, greedy_generate_with_cache  # noqa: E402
from vgcu_ref.models import MODEL_CLASSES, build_model, resolve_config  # noqa: E402
from vgcu_ref.tiny import canonical_arch, tiny_config  # noqa: E402
from vgcu_ref_testing import (TempDirMixin, assert_close, hf_linear, hf_repeat_kv, hf_rms_norm,  # noqa: E402
                              hf_rotate_half, meta_device, run_main, tiny_model, token_ids)

__all__ = ["REMOTE_LITERAL_LOGITS", "RemoteFamiliesLiteralTest", "RemoteFamiliesLayoutTest",
           "RemoteFamiliesCheckpointTest"]

ARCHS = ["InternLM2ForCausalLM", "BaichuanForCausalLM", "BaiChuanForCausalLM", "ChatGLMModel",
         "ChatGLMForConditionalGeneration", "GPT2LMHeadModel"]


# ------------------------------------------------------------------------------------------------
# Literal transcriptions of the original eager code (batch of 1, the original tensor layouts).
# ------------------------------------------------------------------------------------------------


def _make_causal_mask(length, dtype):
    """transformers 4.3x _make_causal_mask (+ the all-ones _expand_mask, which adds 0)."""
    mask = torch.full((length, length), torch.tensor(torch.finfo(dtype).min))
    mask_cond = torch.arange(mask.size(-1))
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    return mask.to(dtype)[None, None, :, :]


class _InternLM2Rotary:
    """InternLM2RotaryEmbedding / LinearScaling / DynamicNTKScaling, stateful as in the original."""

    def __init__(self, dim, max_position_embeddings, base, rope_scaling):
        self.dim, self.max_position_embeddings, self.base = dim, max_position_embeddings, base
        self.type = None if rope_scaling is None else rope_scaling["type"]
        self.scaling_factor = None if rope_scaling is None else rope_scaling["factor"]
        self.inv_freq = 1.0 / (self.base ** (torch.arange(0, self.dim, 2).float() / self.dim))
        self._set_cos_sin_cache(max_position_embeddings, torch.get_default_dtype())

    def _set_cos_sin_cache(self, seq_len, dtype):
        self.max_seq_len_cached = seq_len
        if self.type == "dynamic" and seq_len > self.max_position_embeddings:
            base = self.base * (
                (self.scaling_factor * seq_len / self.max_position_embeddings) - (self.scaling_factor - 1)
            ) ** (self.dim / (self.dim - 2))
            self.inv_freq = 1.0 / (base ** (torch.arange(0, self.dim, 2).float() / self.dim))
        t = torch.arange(self.max_seq_len_cached, dtype=self.inv_freq.dtype)
        if self.type == "linear":
            t = t / self.scaling_factor
        freqs = torch.einsum("i,j->ij", t, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.cos_cached = emb.cos().to(dtype)
        self.sin_cached = emb.sin().to(dtype)

    def __call__(self, x, seq_len):
        if seq_len > self.max_seq_len_cached:
            self._set_cos_sin_cache(seq_len, torch.float32)
        return self.cos_cached[:seq_len].to(dtype=x.dtype), self.sin_cached[:seq_len].to(dtype=x.dtype)


def internlm2_literal_logits(model, input_ids):
    cfg, sd = model.config, model.state_dict()
    hidden, heads, kv_heads = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    head_dim, groups = hidden // heads, heads // kv_heads
    bsz, q_len = 1, input_ids.shape[0]
    position_ids = torch.arange(q_len)[None]
    x = F.embedding(input_ids[None], sd["model.tok_embeddings.weight"])
    mask = _make_causal_mask(q_len, x.dtype)

    def linear(name, h):
        return hf_linear(sd, name, h)

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        rotary = _InternLM2Rotary(head_dim, cfg["max_position_embeddings"], cfg["rope_theta"], cfg["rope_scaling"])
        residual = x
        h = hf_rms_norm(x, sd[p + "attention_norm.weight"], cfg["rms_norm_eps"])
        qkv_states = linear(p + "attention.wqkv", h)
        qkv_states = qkv_states.view(bsz, q_len, kv_heads, 2 + groups, head_dim)  # "b q (h gs d) -> b q h gs d"
        query_states = qkv_states[..., :groups, :]
        query_states = query_states.reshape(bsz, q_len, heads, head_dim)  # "b q h gs d -> b q (h gs) d"
        key_states = qkv_states[..., -2, :]
        value_states = qkv_states[..., -1, :]
        query_states = query_states.transpose(1, 2)
        key_states = key_states.transpose(1, 2)
        value_states = value_states.transpose(1, 2)
        cos, sin = rotary(value_states, seq_len=q_len)
        cos = cos[position_ids].unsqueeze(1)
        sin = sin[position_ids].unsqueeze(1)
        query_states = (query_states * cos) + (hf_rotate_half(query_states) * sin)
        key_states = (key_states * cos) + (hf_rotate_half(key_states) * sin)
        key_states = hf_repeat_kv(key_states, groups)
        value_states = hf_repeat_kv(value_states, groups)
        attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) / math.sqrt(head_dim)
        attn_weights = attn_weights + mask
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_output = torch.matmul(attn_weights, value_states)
        attn_output = attn_output.transpose(1, 2).contiguous().reshape(bsz, q_len, hidden)
        x = residual + linear(p + "attention.wo", attn_output)
        residual = x
        h = hf_rms_norm(x, sd[p + "ffn_norm.weight"], cfg["rms_norm_eps"])
        x = residual + linear(p + "feed_forward.w2", F.silu(linear(p + "feed_forward.w1", h)) *
                              linear(p + "feed_forward.w3", h))
    x = hf_rms_norm(x, sd["model.norm.weight"], cfg["rms_norm_eps"])
    return F.linear(x, sd["output.weight"])[0].float()


def _baichuan_rms(hidden_states, weight, eps):
    variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
    hidden_states = hidden_states * torch.rsqrt(variance + eps)
    if weight.dtype in [torch.float16, torch.bfloat16]:
        hidden_states = hidden_states.to(weight.dtype)
    return weight * hidden_states


def baichuan_literal_logits(model, input_ids):
    """Baichuan2-7B (NormHead, f32 rotary) or Baichuan-7B (legacy rotary), inference branch."""
    v2 = model.architecture == "BaichuanForCausalLM"
    cfg, sd = model.config, model.state_dict()
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head_dim = hidden // heads
    bsz, q_len = 1, input_ids.shape[0]
    position_ids = torch.arange(q_len)[None]
    x = F.embedding(input_ids[None], sd["model.embed_tokens.weight"])
    attention_mask = _make_causal_mask(q_len, x.dtype)
    inv_freq = 1.0 / (10000 ** (torch.arange(0, head_dim, 2).float() / head_dim))
    t = torch.arange(cfg["max_position_embeddings"], dtype=torch.float32)
    freqs = torch.outer(t, inv_freq) if v2 else torch.einsum("i,j->ij", t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos_cached, sin_cached = emb.cos()[None, None, :, :], emb.sin()[None, None, :, :]

    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        residual = x
        h = _baichuan_rms(x, sd[p + "input_layernorm.weight"], cfg["rms_norm_eps"])
        proj = F.linear(h, sd[p + "self_attn.W_pack.weight"])
        proj = proj.unflatten(-1, (3, hidden)).unsqueeze(0).transpose(0, -2).squeeze(-2)
        query_states = proj[0].view(bsz, q_len, heads, head_dim).transpose(1, 2)
        key_states = proj[1].view(bsz, q_len, heads, head_dim).transpose(1, 2)
        value_states = proj[2].view(bsz, q_len, heads, head_dim).transpose(1, 2)
        if v2:
            cos_, sin_ = cos_cached[:, :, :q_len, ...], sin_cached[:, :, :q_len, ...]
        else:
            cos_ = cos_cached[:, :, :q_len, ...].to(dtype=value_states.dtype)
            sin_ = sin_cached[:, :, :q_len, ...].to(dtype=value_states.dtype)
        cos = cos_.squeeze(1).squeeze(0)[position_ids].unsqueeze(1)
        sin = sin_.squeeze(1).squeeze(0)[position_ids].unsqueeze(1)
        q, k = query_states, key_states
        if v2:
            query_states = ((q.float() * cos) + (hf_rotate_half(q.float()) * sin)).to(q.dtype)
            key_states = ((k.float() * cos) + (hf_rotate_half(k.float()) * sin)).to(k.dtype)
        else:
            query_states = (q * cos) + (hf_rotate_half(q) * sin)
            key_states = (k * cos) + (hf_rotate_half(k) * sin)
        # Baichuan-7B eager; Baichuan2 calls F.scaled_dot_product_attention(q, k, v, attn_mask), whose math
        # definition this is (torch 1.13 has no SDPA).
        attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) / math.sqrt(head_dim)
        attn_weights = attn_weights + attention_mask
        attn_weights = torch.max(attn_weights, torch.tensor(torch.finfo(attn_weights.dtype).min))
        attn_weights = F.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
        attn_output = torch.matmul(attn_weights, value_states).transpose(1, 2).reshape(bsz, q_len, hidden)
        x = residual + F.linear(attn_output, sd[p + "self_attn.o_proj.weight"])
        residual = x
        h = _baichuan_rms(x, sd[p + "post_attention_layernorm.weight"], cfg["rms_norm_eps"])
        h = F.linear(F.silu(F.linear(h, sd[p + "mlp.gate_proj.weight"])) * F.linear(h, sd[p + "mlp.up_proj.weight"]),
                     sd[p + "mlp.down_proj.weight"])
        x = residual + h
    x = _baichuan_rms(x, sd["model.norm.weight"], cfg["rms_norm_eps"])
    head = sd["lm_head.weight"]
    if v2:  # NormHead, eval mode, first call: weight = F.normalize(weight)
        head = F.normalize(head)
    return F.linear(x, head)[0].float()


def _chatglm_apply_rotary_pos_emb(x, rope_cache):
    # x: [sq, b, np, hn]
    sq, b, np, hn = x.size(0), x.size(1), x.size(2), x.size(3)  # noqa: F841 (as the original)
    rot_dim = rope_cache.shape[-2] * 2
    x, x_pass = x[..., :rot_dim], x[..., rot_dim:]
    rope_cache = rope_cache[:sq]
    xshaped = x.reshape(sq, -1, np, rot_dim // 2, 2)
    rope_cache = rope_cache.view(sq, -1, 1, xshaped.size(3), 2)
    x_out2 = torch.stack(
        [
            xshaped[..., 0] * rope_cache[..., 0] - xshaped[..., 1] * rope_cache[..., 1],
            xshaped[..., 1] * rope_cache[..., 0] + xshaped[..., 0] * rope_cache[..., 1],
        ],
        -1,
    )
    x_out2 = x_out2.flatten(3)
    return torch.cat((x_out2, x_pass), dim=-1)


def chatglm_literal_logits(model, input_ids):
    """chatglm3-6b modeling_chatglm.py, [sq, b, ...] layout, CoreAttention's torch < 2 branch."""
    cfg, sd = model.config, model.state_dict()
    hidden, heads, hn = cfg["hidden_size"], cfg["num_attention_heads"], cfg["kv_channels"]
    mqa, groups = cfg["multi_query_attention"], cfg["multi_query_group_num"]
    projection = hn * heads
    seq_length = input_ids.shape[0]

    def norm(name, h):
        if cfg["rmsnorm"]:
            input_dtype = h.dtype
            variance = h.to(torch.float32).pow(2).mean(-1, keepdim=True)
            h = h * torch.rsqrt(variance + cfg["layernorm_epsilon"])
            return (sd[name + ".weight"] * h).to(input_dtype)
        return F.layer_norm(h, (hidden,), sd[name + ".weight"], sd[name + ".bias"], cfg["layernorm_epsilon"])

    def linear(name, h):
        return hf_linear(sd, name, h)

    inputs_embeds = F.embedding(input_ids[None], sd["transformer.embedding.word_embeddings.weight"])
    hidden_states = inputs_embeds.transpose(0, 1).contiguous()  # [s, b, h]
    dtype = hidden_states.dtype
    # RotaryEmbedding(rotary_dim // 2).forward_impl(seq_length, n_elem, dtype)
    n_elem = hn // 2
    base = 10000 * cfg["rope_ratio"]
    theta = 1.0 / (base ** (torch.arange(0, n_elem, 2, dtype=torch.float) / n_elem))
    seq_idx = torch.arange(cfg["seq_length"], dtype=torch.float)
    idx_theta = torch.outer(seq_idx, theta).float()
    cache = torch.stack([torch.cos(idx_theta), torch.sin(idx_theta)], dim=-1)
    if dtype in (torch.float16, torch.bfloat16, torch.int8):
        cache = cache.bfloat16() if dtype == torch.bfloat16 else cache.half()
    position_ids = torch.arange(seq_length)[None]
    rotary_pos_emb = cache[position_ids].transpose(0, 1).contiguous()

    for i in range(cfg["num_layers"]):
        p = f"transformer.encoder.layers.{i}."
        layer_number = i + 1
        layernorm_output = norm(p + "input_layernorm", hidden_states)
        mixed_x_layer = linear(p + "self_attention.query_key_value", layernorm_output)
        if mqa:
            query_layer, key_layer, value_layer = mixed_x_layer.split([projection, groups * hn, groups * hn], dim=-1)
            query_layer = query_layer.view(query_layer.size()[:-1] + (heads, hn))
            key_layer = key_layer.view(key_layer.size()[:-1] + (groups, hn))
            value_layer = value_layer.view(value_layer.size()[:-1] + (groups, hn))
        else:
            mixed_x_layer = mixed_x_layer.view(*(mixed_x_layer.size()[:-1] + (heads, 3 * hn)))
            query_layer, key_layer, value_layer = torch.split(mixed_x_layer, mixed_x_layer.size()[-1] // 3, dim=-1)
        query_layer = _chatglm_apply_rotary_pos_emb(query_layer, rotary_pos_emb)
        key_layer = _chatglm_apply_rotary_pos_emb(key_layer, rotary_pos_emb)
        if mqa:
            key_layer = key_layer.unsqueeze(-2).expand(-1, -1, -1, heads // groups, -1)
            key_layer = key_layer.contiguous().view(key_layer.size()[:2] + (heads, hn))
            value_layer = value_layer.unsqueeze(-2).expand(-1, -1, -1, heads // groups, -1)
            value_layer = value_layer.contiguous().view(value_layer.size()[:2] + (heads, hn))
        # CoreAttention (torch < 2)
        scaling = cfg["apply_query_key_layer_scaling"]
        softmax_in_fp32 = cfg["attention_softmax_in_fp32"] or scaling
        norm_factor = math.sqrt(hn) * (layer_number if scaling else 1)
        output_size = (query_layer.size(1), query_layer.size(2), query_layer.size(0), key_layer.size(0))
        query_layer = query_layer.view(output_size[2], output_size[0] * output_size[1], -1)
        key_layer = key_layer.view(output_size[3], output_size[0] * output_size[1], -1)
        matmul_input_buffer = torch.empty(output_size[0] * output_size[1], output_size[2], output_size[3],
                                          dtype=query_layer.dtype)
        matmul_result = torch.baddbmm(matmul_input_buffer, query_layer.transpose(0, 1),
                                      key_layer.transpose(0, 1).transpose(1, 2), beta=0.0, alpha=(1.0 / norm_factor))
        attention_scores = matmul_result.view(*output_size)
        if softmax_in_fp32:
            attention_scores = attention_scores.float()
        if scaling:
            attention_scores = attention_scores * layer_number
        attention_mask = torch.ones(output_size[0], 1, output_size[2], output_size[3], dtype=torch.bool)
        attention_mask.tril_()
        attention_mask = ~attention_mask
        attention_scores = attention_scores.masked_fill(attention_mask, float("-inf"))
        attention_probs = F.softmax(attention_scores, dim=-1).type_as(value_layer)
        output_size = (value_layer.size(1), value_layer.size(2), query_layer.size(0), value_layer.size(3))
        value_layer = value_layer.view(value_layer.size(0), output_size[0] * output_size[1], -1)
        attention_probs = attention_probs.view(output_size[0] * output_size[1], output_size[2], -1)
        context_layer = torch.bmm(attention_probs, value_layer.transpose(0, 1))
        context_layer = context_layer.view(*output_size).permute(2, 0, 1, 3).contiguous()
        context_layer = context_layer.view(*(context_layer.size()[:-2] + (projection,)))
        attention_output = linear(p + "self_attention.dense", context_layer)
        post = cfg["apply_residual_connection_post_layernorm"]
        residual = layernorm_output if post else hidden_states
        layernorm_input = residual + attention_output
        layernorm_output = norm(p + "post_attention_layernorm", layernorm_input)
        x = torch.chunk(linear(p + "mlp.dense_h_to_4h", layernorm_output), 2, dim=-1)
        mlp_output = linear(p + "mlp.dense_4h_to_h", F.silu(x[0]) * x[1])
        residual = layernorm_output if post else layernorm_input
        hidden_states = residual + mlp_output
    if cfg["post_layer_norm"]:
        hidden_states = norm("transformer.encoder.final_layernorm", hidden_states)
    lm_logits = F.linear(hidden_states, sd["transformer.output_layer.weight"]).transpose(0, 1).contiguous()
    return lm_logits[0].float()


def gpt2_literal_logits(model, input_ids):
    cfg, sd = model.config, model.state_dict()
    embed_dim, num_heads = cfg["n_embd"], cfg["n_head"]
    head_dim = embed_dim // num_heads
    max_positions = cfg["n_positions"]
    bias = torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)).view(
        1, 1, max_positions, max_positions)
    input_ids = input_ids[None]
    position_ids = torch.arange(0, input_ids.shape[-1], dtype=torch.long).unsqueeze(0)
    hidden_states = F.embedding(input_ids, sd["transformer.wte.weight"]) + \
        F.embedding(position_ids, sd["transformer.wpe.weight"])
    eps = cfg["layer_norm_epsilon"]

    def conv1d(name, x):
        weight, b = sd[name + ".weight"], sd[name + ".bias"]
        size_out = x.size()[:-1] + (weight.shape[1],)
        return torch.addmm(b, x.view(-1, x.size(-1)), weight).view(size_out)

    def ln(name, x):
        return F.layer_norm(x, (embed_dim,), sd[name + ".weight"], sd[name + ".bias"], eps)

    def split_heads(t):
        return t.view(t.size()[:-1] + (num_heads, head_dim)).permute(0, 2, 1, 3)

    def gelu_new(x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))

    act = {"gelu_new": gelu_new, "gelu": F.gelu, "relu": F.relu}[cfg["activation_function"]]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        residual = hidden_states
        h = ln(p + "ln_1", hidden_states)
        query, key, value = conv1d(p + "attn.c_attn", h).split(embed_dim, dim=2)
        query, key, value = split_heads(query), split_heads(key), split_heads(value)
        query_length, key_length = query.size(-2), key.size(-2)
        causal_mask = bias[:, :, key_length - query_length: key_length, :key_length]
        if cfg["reorder_and_upcast_attn"]:
            bsz, nh, q_seq_len, dk = query.size()
            attn_weights = torch.empty(bsz * nh, q_seq_len, key_length, dtype=torch.float32)
            scale_factor = 1.0
            if cfg["scale_attn_weights"]:
                scale_factor /= float(value.size(-1)) ** 0.5
            if cfg["scale_attn_by_inverse_layer_idx"]:
                scale_factor /= float(i + 1)
            q, k = query.reshape(-1, q_seq_len, dk), key.transpose(-1, -2).reshape(-1, dk, key_length)
            attn_weights = torch.baddbmm(attn_weights, q.float(), k.float(), beta=0, alpha=scale_factor)
            attn_weights = attn_weights.reshape(bsz, nh, q_seq_len, key_length)
            mask_value = torch.tensor(torch.finfo(attn_weights.dtype).min, dtype=attn_weights.dtype)
            attn_weights = torch.where(causal_mask, attn_weights, mask_value)
        else:
            attn_weights = torch.matmul(query, key.transpose(-1, -2))
            if cfg["scale_attn_weights"]:
                attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=attn_weights.dtype)
            if cfg["scale_attn_by_inverse_layer_idx"]:
                attn_weights = attn_weights / float(i + 1)
            mask_value = torch.full([], torch.finfo(attn_weights.dtype).min, dtype=attn_weights.dtype)
            attn_weights = torch.where(causal_mask, attn_weights.to(attn_weights.dtype), mask_value)
        attn_weights = F.softmax(attn_weights, dim=-1).type(value.dtype)
        attn_output = torch.matmul(attn_weights, value)
        attn_output = attn_output.permute(0, 2, 1, 3).contiguous()
        attn_output = attn_output.view(attn_output.size()[:-2] + (num_heads * head_dim,))
        hidden_states = conv1d(p + "attn.c_proj", attn_output) + residual
        residual = hidden_states
        h = conv1d(p + "mlp.c_proj", act(conv1d(p + "mlp.c_fc", ln(p + "ln_2", hidden_states))))
        hidden_states = residual + h
    hidden_states = ln("transformer.ln_f", hidden_states)
    return F.linear(hidden_states, sd["lm_head.weight"])[0].float()


REMOTE_LITERAL_LOGITS = {
    "InternLM2ForCausalLM": internlm2_literal_logits,
    "BaichuanForCausalLM": baichuan_literal_logits,
    "BaiChuanForCausalLM": baichuan_literal_logits,
    "ChatGLMModel": chatglm_literal_logits,
    "ChatGLMForConditionalGeneration": chatglm_literal_logits,
    "GPT2LMHeadModel": gpt2_literal_logits,
}

# Config variants that take the other code paths of each original.
LITERAL_VARIANTS = {
    "InternLM2ForCausalLM": [
        {"bias": True, "tie_word_embeddings": True},
        {"rope_scaling": {"type": "linear", "factor": 2.0}},
        {"rope_scaling": {"type": "dynamic", "factor": 2.0}, "max_position_embeddings": 8},  # 12 > 8 tokens
        {"num_key_value_heads": 1},
    ],
    "ChatGLMModel": [
        {"multi_query_attention": False},
        {"rmsnorm": False, "apply_residual_connection_post_layernorm": True, "post_layer_norm": False},
        {"apply_query_key_layer_scaling": False, "attention_softmax_in_fp32": False, "add_bias_linear": True,
         "add_qkv_bias": False},
        {"multi_query_group_num": 1, "rope_ratio": 50},
    ],
    "GPT2LMHeadModel": [
        {"scale_attn_by_inverse_layer_idx": True, "tie_word_embeddings": False},
        {"reorder_and_upcast_attn": True, "scale_attn_by_inverse_layer_idx": True},
        {"scale_attn_weights": False, "activation_function": "relu", "n_inner": None},
    ],
}


# ------------------------------------------------------------------------------------------------
# Real configs (the published config.json values) and their parameter counts (test/data/configs).
# ------------------------------------------------------------------------------------------------

REAL_CONFIGS = {
    "internlm2_7b": ({"architectures": ["InternLM2ForCausalLM"], "attn_implementation": "eager", "bias": False,
                      "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096,
                      "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 32768,
                      "model_type": "internlm2", "num_attention_heads": 32, "num_hidden_layers": 32,
                      "num_key_value_heads": 8, "pad_token_id": 2, "rms_norm_eps": 1e-05, "rope_scaling": None,
                      "rope_theta": 1000000, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
                      "transformers_version": "4.37.1", "use_cache": True, "vocab_size": 92544}, 7737708544),
    "baichuan2_7b": ({"architectures": ["BaichuanForCausalLM"], "tokenizer_class": "BaichuanTokenizer",
                      "bos_token_id": 1, "eos_token_id": 2, "hidden_size": 4096, "initializer_range": 0.02,
                      "intermediate_size": 11008, "max_position_embeddings": 4096, "model_max_length": 4096,
                      "model_type": "baichuan", "num_attention_heads": 32, "num_hidden_layers": 32,
                      "pad_token_id": 0, "rms_norm_eps": 1e-06, "_from_model_config": True,
                      "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.29.2",
                      "use_cache": True, "vocab_size": 125696}, 7505973248),
    "chatglm3_6b": ({"architectures": ["ChatGLMModel"], "model_type": "chatglm", "add_bias_linear": False,
                     "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
                     "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0,
                     "attention_softmax_in_fp32": True, "bias_dropout_fusion": True, "ffn_hidden_size": 13696,
                     "fp32_residual_connection": False, "hidden_dropout": 0.0, "hidden_size": 4096,
                     "kv_channels": 128, "layernorm_epsilon": 1e-05, "multi_query_attention": True,
                     "multi_query_group_num": 2, "num_attention_heads": 32, "num_layers": 28,
                     "original_rope": True, "padded_vocab_size": 65024, "post_layer_norm": True,
                     "rmsnorm": True, "seq_length": 8192, "use_cache": True, "torch_dtype": "float16",
                     "transformers_version": "4.30.2", "tie_word_embeddings": False, "eos_token_id": 2,
                     "pad_token_id": 0}, 6243584000),
    "glm4_9b_chat": ({"architectures": ["ChatGLMModel"], "model_type": "chatglm", "add_bias_linear": False,
                      "add_qkv_bias": True, "apply_query_key_layer_scaling": True,
                      "apply_residual_connection_post_layernorm": False, "attention_dropout": 0.0,
                      "attention_softmax_in_fp32": True, "bias_dropout_fusion": True, "ffn_hidden_size": 13696,
                      "fp32_residual_connection": False, "hidden_dropout": 0.0, "hidden_size": 4096,
                      "kv_channels": 128, "layernorm_epsilon": 1.5625e-07, "multi_query_attention": True,
                      "multi_query_group_num": 2, "num_attention_heads": 32, "num_hidden_layers": 40,
                      "num_layers": 40, "rope_ratio": 500, "original_rope": True, "padded_vocab_size": 151552,
                      "post_layer_norm": True, "rmsnorm": True, "seq_length": 131072, "use_cache": True,
                      "torch_dtype": "bfloat16", "transformers_version": "4.30.2", "tie_word_embeddings": False,
                      "eos_token_id": [151329, 151336, 151338], "pad_token_id": 151329}, 9399951360),
    "gpt2": ({"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
              "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
              "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
              "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "summary_activation": None,
              "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
              "summary_use_proj": True, "task_specific_params": {"text-generation": {"do_sample": True,
                                                                                     "max_length": 50}},
              "vocab_size": 50257}, 124439808),
}


def expected_checkpoint_shapes(cfg):
    """Checkpoint tensor name -> shape as the family's real checkpoints hold them (from the config)."""
    arch = cfg["architectures"][0]
    if arch == "InternLM2ForCausalLM":
        e, h, kv, inter = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], \
            cfg["intermediate_size"]
        d = e // h
        shapes = {"model.tok_embeddings.weight": (cfg["vocab_size"], e), "model.norm.weight": (e,)}
        if not cfg["tie_word_embeddings"]:
            shapes["output.weight"] = (cfg["vocab_size"], e)
        per_layer = {"attention.wqkv.weight": ((h + 2 * kv) * d, e), "attention.wo.weight": (e, h * d),
                     "feed_forward.w1.weight": (inter, e), "feed_forward.w3.weight": (inter, e),
                     "feed_forward.w2.weight": (e, inter), "attention_norm.weight": (e,), "ffn_norm.weight": (e,)}
        if cfg["bias"]:
            per_layer.update({"attention.wqkv.bias": ((h + 2 * kv) * d,), "attention.wo.bias": (e,)})
        prefix = "model.layers."
    elif arch in ("BaichuanForCausalLM", "BaiChuanForCausalLM"):
        e, inter = cfg["hidden_size"], cfg["intermediate_size"]
        shapes = {"model.embed_tokens.weight": (cfg["vocab_size"], e), "model.norm.weight": (e,),
                  "lm_head.weight": (cfg["vocab_size"], e)}
        per_layer = {"self_attn.W_pack.weight": (3 * e, e), "self_attn.o_proj.weight": (e, e),
                     "mlp.gate_proj.weight": (inter, e), "mlp.up_proj.weight": (inter, e),
                     "mlp.down_proj.weight": (e, inter), "input_layernorm.weight": (e,),
                     "post_attention_layernorm.weight": (e,)}
        if arch == "BaiChuanForCausalLM":
            per_layer["self_attn.rotary_emb.inv_freq"] = (e // cfg["num_attention_heads"] // 2,)
        prefix = "model.layers."
    elif arch in ("ChatGLMModel", "ChatGLMForConditionalGeneration"):
        e, h, d, f = cfg["hidden_size"], cfg["num_attention_heads"], cfg["kv_channels"], cfg["ffn_hidden_size"]
        g = cfg["multi_query_group_num"] if cfg["multi_query_attention"] else h
        qkv = h * d + 2 * g * d
        shapes = {"transformer.embedding.word_embeddings.weight": (cfg["padded_vocab_size"], e),
                  "transformer.rotary_pos_emb.inv_freq": (d // 4,),
                  "transformer.output_layer.weight": (cfg["padded_vocab_size"], e)}
        if cfg["post_layer_norm"]:
            shapes["transformer.encoder.final_layernorm.weight"] = (e,)
        per_layer = {"input_layernorm.weight": (e,), "self_attention.query_key_value.weight": (qkv, e),
                     "self_attention.dense.weight": (e, h * d), "post_attention_layernorm.weight": (e,),
                     "mlp.dense_h_to_4h.weight": (2 * f, e), "mlp.dense_4h_to_h.weight": (e, f)}
        if cfg["add_qkv_bias"] or cfg["add_bias_linear"]:
            per_layer["self_attention.query_key_value.bias"] = (qkv,)
        prefix = "transformer.encoder.layers."
    elif arch == "GPT2LMHeadModel":
        e, inner = cfg["n_embd"], cfg["n_inner"] or 4 * cfg["n_embd"]
        shapes = {"transformer.wte.weight": (cfg["vocab_size"], e), "transformer.wpe.weight": (cfg["n_positions"], e),
                  "transformer.ln_f.weight": (e,), "transformer.ln_f.bias": (e,)}
        if not cfg["tie_word_embeddings"]:
            shapes["lm_head.weight"] = (cfg["vocab_size"], e)
        per_layer = {"ln_1.weight": (e,), "ln_1.bias": (e,), "attn.c_attn.weight": (e, 3 * e),
                     "attn.c_attn.bias": (3 * e,), "attn.c_proj.weight": (e, e), "attn.c_proj.bias": (e,),
                     "ln_2.weight": (e,), "ln_2.bias": (e,), "mlp.c_fc.weight": (e, inner), "mlp.c_fc.bias": (inner,),
                     "mlp.c_proj.weight": (inner, e), "mlp.c_proj.bias": (e,)}
        prefix = "transformer.h."
    else:
        raise KeyError(arch)
    for i in range(cfg["num_hidden_layers"]):
        shapes.update({f"{prefix}{i}.{name}": shape for name, shape in per_layer.items()})
    return shapes


# ------------------------------------------------------------------------------------------------


class RemoteFamiliesLiteralTest(unittest.TestCase):
    def test_matches_literal_original_code(self):
        ids = token_ids(12, seed=3)
        for arch in ARCHS:
            for overrides in [{}] + LITERAL_VARIANTS.get(arch, []):
                for dtype, rel in ((torch.float32, 1e-6), (torch.bfloat16, 2e-3)):
                    with self.subTest(arch=arch, overrides=overrides, dtype=dtype):
                        model = tiny_model(arch, dtype, **overrides)
                        want = REMOTE_LITERAL_LOGITS[arch](model, ids)
                        assert_close(self, model(ids, torch.arange(12)), want, rel, arch)

    def test_rotary_details(self):
        # InternLM2 dynamic NTK: the default rope up to max_position_embeddings, another base beyond.
        ids = token_ids(12, seed=4)
        plain = tiny_model("InternLM2ForCausalLM", max_position_embeddings=8)
        dynamic = tiny_model("InternLM2ForCausalLM", max_position_embeddings=8,
                         rope_scaling={"type": "dynamic", "factor": 2.0})
        self.assertTrue(torch.equal(plain(ids[:8], torch.arange(8)), dynamic(ids[:8], torch.arange(8))))
        self.assertFalse(torch.allclose(plain(ids, torch.arange(12)), dynamic(ids, torch.arange(12))))
        # ChatGLM: rope_ratio scales the base; interleaved pairs on the first half of each head.
        glm = tiny_model("ChatGLMModel")
        rope = glm.transformer.rotary_pos_emb
        self.assertTrue(torch.equal(rope.theta, 1.0 / (10000 ** (torch.arange(0, 8, 2, dtype=torch.float) / 8))))
        glm4 = tiny_model("ChatGLMForConditionalGeneration")
        self.assertTrue(torch.equal(glm4.transformer.rotary_pos_emb.theta,
                                    1.0 / (5000000 ** (torch.arange(0, 8, 2, dtype=torch.float) / 8))))
        attn = glm.transformer.encoder.layers[0].self_attention
        self.assertEqual(attn.rot_dim, 8)
        x = torch.randn(3, 4, 16)
        out = chatglm_rotary(x, rope(torch.tensor([0, 5, 9]), torch.float32), attn.rot_dim, 4)
        self.assertTrue(torch.equal(out[..., 8:], x[..., 8:]))
        angle = 9 * rope.theta[1]
        self.assertTrue(torch.allclose(out[2, :, 2], x[2, :, 2] * torch.cos(angle) - x[2, :, 3] * torch.sin(angle),
                                       atol=1e-6))
        self.assertTrue(torch.allclose(out[2, :, 3], x[2, :, 3] * torch.cos(angle) + x[2, :, 2] * torch.sin(angle),
                                       atol=1e-6))
        # The f32 tables survive model.to(bfloat16); ChatGLM's checkpoint inv_freq buffer is cast like the original.
        bf16 = glm.to(torch.bfloat16)
        self.assertEqual(bf16.transformer.rotary_pos_emb.theta.dtype, torch.float32)
        self.assertEqual(bf16.transformer.rotary_pos_emb.inv_freq.dtype, torch.bfloat16)

    def test_kv_cache_and_generation(self):
        ids = token_ids(12, seed=2)
        pos = torch.arange(12)
        # (test_reference's generic tests run every tiny preset through the cache and torch.jit.trace.)
        cases = [
            ("InternLM2ForCausalLM", {"rope_scaling": {"type": "dynamic", "factor": 2.0}}),
            ("ChatGLMModel", {"multi_query_attention": False}),
            ("GPT2LMHeadModel", {"reorder_and_upcast_attn": True}),
            ("BaiChuanForCausalLM", {})]
        for arch, overrides in cases:
            for dtype, rel in ((torch.float32, 1e-5), (torch.bfloat16, 2e-2)):
                with self.subTest(arch=arch, overrides=overrides, dtype=dtype):
                    model = tiny_model(arch, dtype, **overrides)
                    k_cache, v_cache = model.new_kv_cache(16)
                    rows = [model.forward_with_cache(ids[:7], pos[:7], k_cache, v_cache)]
                    rows += [model.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache)
                             for i in range(7, 12)]
                    assert_close(self, torch.cat(rows), model(ids, pos), rel, arch)
                    self.assertEqual(float(k_cache[:, 12:].abs().sum()), 0.0)
            model = tiny_model(arch, **overrides)
            k_cache, v_cache = model.new_kv_cache(24)
            self.assertEqual(greedy_generate_with_cache(model, [5, 17, 42], 20, k_cache, v_cache)[0],
                             greedy_generate(model, [5, 17, 42], 20)[0], arch)


class RemoteFamiliesLayoutTest(unittest.TestCase):
    def test_real_configs_names_shapes_and_counts(self):
        for name, (config, count) in REAL_CONFIGS.items():
            with self.subTest(config=name):
                arch = config["architectures"][0]
                with meta_device():
                    model = MODEL_CLASSES[arch](config)
                shapes = {n: tuple(t.shape) for n, t in model.checkpoint_state_dict().items()}
                self.assertEqual(shapes, expected_checkpoint_shapes(model.config))
                self.assertEqual(sum(p.numel() for p in model.parameters()), count)  # tied: once

    def test_tiny_checkpoint_names(self):
        for arch in ARCHS:
            with self.subTest(arch=arch):
                model = tiny_model(arch)
                shapes = {n: tuple(t.shape) for n, t in model.checkpoint_state_dict().items()}
                self.assertEqual(shapes, expected_checkpoint_shapes(model.config))
                self.assertEqual(model.config["vocab_size"], 250)

    def test_packed_layouts(self):
        x = torch.randn(3, 64)
        # InternLM2 wqkv: per kv head h, (G + 2) * D rows: G query heads, then k, then v.
        attn = tiny_model("InternLM2ForCausalLM").model.layers[0].attention
        w = attn.wqkv.weight.view(2, 4, 16, 64)  # [KVH, G + 2, D, E], G = 2
        qkv = attn.wqkv(x).view(-1, 2, 4, 16)
        self.assertTrue(torch.allclose(qkv[:, 1, 0], x @ w[1, 0].t(), atol=1e-5))  # query head 2 = 1*G + 0
        self.assertTrue(torch.allclose(qkv[:, 1, 2], x @ w[1, 2].t(), atol=1e-5))  # key of kv head 1
        # ChatGLM MQA: [H D queries | G D keys | G D values]; dense_h_to_4h = [gate (silu) | up].
        layer = tiny_model("ChatGLMModel").transformer.encoder.layers[0]
        self.assertEqual(tuple(layer.self_attention.query_key_value.weight.shape), (4 * 16 + 2 * 2 * 16, 64))
        h4 = layer.mlp.dense_h_to_4h.weight
        want = layer.mlp.dense_4h_to_h(F.silu(x @ h4[:128].t()) * (x @ h4[128:].t()))
        self.assertTrue(torch.allclose(layer.mlp(x), want, atol=1e-5))
        # GPT-2 Conv1D: weight [in, out], y = x @ W + b; c_attn columns [q | k | v].
        c_attn = tiny_model("GPT2LMHeadModel").transformer.h[0].attn.c_attn
        self.assertEqual(tuple(c_attn.weight.shape), (64, 192))
        self.assertTrue(torch.allclose(c_attn(x)[:, 64:128], x @ c_attn.weight[:, 64:128] + c_attn.bias[64:128],
                                       atol=1e-5))

    def test_normhead(self):
        for dtype in (torch.float32, torch.bfloat16):
            model = tiny_model("BaichuanForCausalLM", dtype)
            ids, pos = token_ids(6, seed=1), torch.arange(6)
            want = model(ids, pos)
            w = model.lm_head.weight
            normalized = w / w.norm(2, dim=1, keepdim=True).clamp_min(1e-12)  # in the weight's dtype
            self.assertEqual(normalized.dtype, dtype)
            self.assertTrue(torch.equal(F.linear(model.model(ids, pos), normalized).float(), want))
            with torch.no_grad():
                w.mul_(torch.linspace(0.5, 4.0, w.shape[0], dtype=dtype)[:, None])  # row scales do not matter
            assert_close(self, model(ids, pos), want, 1e-6 if dtype == torch.float32 else 2e-2, "NormHead")

    def test_configs(self):
        glm = resolve_config({"architectures": ["ChatGLMModel"]})
        self.assertEqual((glm["num_hidden_layers"], glm["vocab_size"], glm["num_key_value_heads"], glm["head_dim"]),
                         (28, 65024, 32, 128))
        gpt2 = resolve_config({"architectures": ["GPT2LMHeadModel"], "hidden_size": 128, "n_head": 4})
        self.assertEqual((gpt2["n_embd"], gpt2["head_dim"], gpt2["intermediate_size"], gpt2["tie_word_embeddings"]),
                         (128, 32, 512, True))  # attribute_map alias wins, like HF
        internlm2 = resolve_config({"architectures": ["InternLM2ForCausalLM"]})
        self.assertEqual((internlm2["num_key_value_heads"], internlm2["bias"], internlm2["rms_norm_eps"]),
                         (32, True, 1e-6))
        names = ("internlm2", "baichuan", "BaiChuanForCausalLM", "chatglm", "gpt2")
        self.assertEqual([canonical_arch(n) for n in names],
                         ["InternLM2ForCausalLM", "BaichuanForCausalLM", "BaiChuanForCausalLM", "ChatGLMModel",
                          "GPT2LMHeadModel"])
        for arch, bad, error in (
                ("BaichuanForCausalLM", {"hidden_size": 5120, "num_attention_heads": 40}, NotImplementedError),
                ("ChatGLMModel", {"pre_seq_len": 128}, NotImplementedError),
                ("GPT2LMHeadModel", {"add_cross_attention": True}, NotImplementedError),
                ("GPT2LMHeadModel", {"activation_function": "gelu_10"}, NotImplementedError),
                ("InternLM2ForCausalLM", {"rope_scaling": {"type": "yarn", "factor": 2.0}}, ValueError)):
            with self.subTest(arch=arch, bad=bad), self.assertRaises(error):
                build_model(dict(tiny_config(arch), **bad))


class RemoteFamiliesCheckpointTest(TempDirMixin, unittest.TestCase):
    def test_save_load_and_config_json(self):
        for arch in ARCHS:
            with self.subTest(arch=arch):
                out = os.path.join(self.tmp, arch)
                model = tiny_model(arch)
                save_model(model, out, torch.bfloat16, num_shards=2)
                self.assertEqual(set(st.load_checkpoint(out)), set(model.checkpoint_state_dict()))
                with open(os.path.join(out, "config.json")) as f:
                    written = json.load(f)
                self.assertFalse(set(model.config_aliases) & set(written), "derived keys written")
                loaded = load_model(out)
                self.assertEqual({k: v for k, v in loaded.config.items() if k != "torch_dtype"}, model.config)
                for name, t in model.checkpoint_state_dict().items():
                    self.assertTrue(torch.equal(loaded.checkpoint_state_dict()[name], t.bfloat16().float()), name)

    def test_original_checkpoint_spellings(self):
        # GPT-2 as openai-community/gpt2 stores it: no "transformer." prefix, attn.bias / masked_bias buffers.
        gpt2 = tiny_model("GPT2LMHeadModel")
        tensors = {n[len("transformer."):]: t for n, t in gpt2.checkpoint_state_dict().items()}
        for i in range(2):
            tensors[f"h.{i}.attn.bias"] = torch.tril(torch.ones(128, 128)).view(1, 1, 128, 128)
            tensors[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
        tensors["lm_head.weight"] = gpt2.lm_head.weight.clone()  # redundant tied head
        fresh = tiny_model("GPT2LMHeadModel", seed=1)
        load_weights(fresh, tensors)
        ids = token_ids(5)
        self.assertTrue(torch.equal(fresh(ids, torch.arange(5)), gpt2(ids, torch.arange(5))))
        # Rotary inv_freq buffers: present or absent (values unused).
        for arch in ("ChatGLMModel", "BaiChuanForCausalLM"):
            model = tiny_model(arch)
            load_weights(tiny_model(arch, seed=1), {n: t for n, t in model.checkpoint_state_dict().items()
                                                if not n.endswith("inv_freq")})
            load_weights(tiny_model(arch, seed=1), model.checkpoint_state_dict())
        # InternLM2 tied: output.weight absent, or present and equal to tok_embeddings.
        tied = tiny_model("InternLM2ForCausalLM", tie_word_embeddings=True)
        self.assertNotIn("output.weight", tied.checkpoint_state_dict())
        load_weights(tiny_model("InternLM2ForCausalLM", seed=1, tie_word_embeddings=True),
                     dict(tied.checkpoint_state_dict(), **{"output.weight": tied.output.weight.clone()}))
        glm = tiny_model("ChatGLMModel").checkpoint_state_dict()
        with self.assertRaisesRegex(ValueError, "missing 1"):
            load_weights(tiny_model("ChatGLMModel"),
                         {n: t for n, t in glm.items() if n != "transformer.output_layer.weight"})

    def test_cli(self):
        for name in ("internlm2", "baichuan", "BaiChuanForCausalLM", "chatglm", "gpt2"):
            with self.subTest(arch=name):
                out = os.path.join(self.tmp, name)
                code, _ = run_main(make_tiny_model.main, [name, out, "--dtype", "bf16", "--seed", "3"])
                self.assertEqual(code, 0)
                argv = [out, "--prompt-ids", "5,17,42", "--max-new-tokens", "6", "--json"]
                code, text = run_main(run_reference.main, argv)
                plain = json.loads(text)
                code, text = run_main(run_reference.main, argv + ["--kv-cache"])
                cached = json.loads(text)
                self.assertEqual((code, len(plain["tokens"])), (0, 6))
                self.assertEqual(plain["tokens"], cached["tokens"])
                torch.testing.assert_close(torch.tensor(cached["logits"]), torch.tensor(plain["logits"]),
                                           rtol=1e-5, atol=1e-5)
                if name in ("chatglm", "gpt2"):  # (test_reference traces every preset)
                    pt = os.path.join(self.tmp, name + ".pt")
                    code, text = run_main(trace_model.main, [out, pt, "--with-cache", "24"])
                    self.assertEqual(code, 0, text)
        # Bench size through the generic overrides (kv heads ignored where there is no GQA).
        for name in ("gpt2", "chatglm", "baichuan", "internlm2"):
            cfg = tiny_config(name, bench=True)
            self.assertEqual((cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]), (512, 4, 8000), name)
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            run_reference.main([os.path.join(self.tmp, "gpt2"), "--prompt-ids", "5", "--max-new-tokens", "200"])


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
