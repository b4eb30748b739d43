"""Tests of rotary scaling (rope.py), Gemma, Gemma 2, Phi3 and hf_style_trace.py.

Imported by test_reference.py (run `/usr/bin/python3 python/test_reference.py`); runs alone too.
The reference is checked against LITERAL transcriptions of the Hugging Face code below:
modeling_rope_utils.py of transformers v4.5x (the version with dynamic_rope_update, yarn's truncate
and mscale), the Llama/Gemma/Gemma2/Phi3 eager forward in HF's batched [1, heads, T, D] layout with
an additive finfo.min mask, HF's DynamicCache concatenation, and Phi3's prepare_inputs_for_generation
cache drop.
"""

import json
import math
import os
import sys
import tempfile
import unittest
import warnings
from types import SimpleNamespace

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hf_style_trace  # noqa: E402
import make_tiny_model  # noqa: E402
import run_reference  # noqa: E402
import trace_model  # noqa: E402
from vgcu_ref.checkpoint import load_model  # noqa: E402
from vgcu_ref.generate import greedy_generate, greedy_generate_with_cache, teacher_forced_with_cache  # noqa: E402
from vgcu_ref.models import build_model, layer_sliding_windows, resolve_config, rope_inv_freq  # noqa: E402
from vgcu_ref.rope import rope_depends_on_call  # noqa: E402
from vgcu_ref.tiny import tiny_config  # noqa: E402
from vgcu_ref_testing import (TempDirMixin, hf_linear, hf_repeat_kv, hf_rms_norm, hf_rotate_half,  # noqa: E402
                              rel_error, run_main, tiny_model, token_ids)

__all__ = ["FAMILY_LITERAL_LOGITS", "RopeScalingTest", "FamilyModelTest", "FamilyCliTest", "HFStyleTraceTest"]

warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

FAMILY_ARCHS = ["GemmaForCausalLM", "Gemma2ForCausalLM", "Phi3ForCausalLM"]
CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "configs")


# ------------------------------------------------------------------------------------------------
# Literal transcription of transformers v4.5x src/transformers/modeling_rope_utils.py (docstrings
# dropped). `config` is a SimpleNamespace of the config dict, so hasattr/getattr behave like HF's.
# ------------------------------------------------------------------------------------------------


def _compute_default_rope_parameters(config=None, device=None, seq_len=None):
    base = config.rope_theta
    partial_rotary_factor = getattr(config, "partial_rotary_factor", 1.0)
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    dim = int(head_dim * partial_rotary_factor)
    attention_factor = 1.0
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(device=device, dtype=torch.float) / dim))
    return inv_freq, attention_factor


def _compute_linear_scaling_rope_parameters(config=None, device=None, seq_len=None):
    factor = config.rope_scaling["factor"]
    inv_freq, attention_factor = _compute_default_rope_parameters(config, device, seq_len)
    inv_freq /= factor
    return inv_freq, attention_factor


def _compute_dynamic_ntk_parameters(config=None, device=None, seq_len=None):
    base = config.rope_theta
    partial_rotary_factor = getattr(config, "partial_rotary_factor", 1.0)
    head_dim = getattr(config, "head_dim", config.hidden_size // config.num_attention_heads)
    dim = int(head_dim * partial_rotary_factor)
    max_position_embeddings = config.max_position_embeddings
    factor = config.rope_scaling["factor"]
    attention_factor = 1.0
    if seq_len is None:
        seq_len = max_position_embeddings
    elif isinstance(seq_len, torch.Tensor):
        seq_len = torch.maximum(
            seq_len,
            torch.tensor(max_position_embeddings, dtype=seq_len.dtype, device=seq_len.device),
        )
    else:
        seq_len = max(seq_len, max_position_embeddings)
    base = base * ((factor * seq_len / max_position_embeddings) - (factor - 1)) ** (dim / (dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).to(device=device, dtype=torch.float) / dim))
    return inv_freq, attention_factor


def _compute_yarn_parameters(config, device, seq_len=None):
    base = config.rope_theta
    partial_rotary_factor = getattr(config, "partial_rotary_factor", 1.0)
    head_dim = getattr(config, "head_dim", config.hidden_size // config.num_attention_heads)
    dim = int(head_dim * partial_rotary_factor)
    factor = config.rope_scaling["factor"]
    attention_factor = config.rope_scaling.get("attention_factor")
    mscale = config.rope_scaling.get("mscale")
    mscale_all_dim = config.rope_scaling.get("mscale_all_dim")
    original_max_position_embeddings = (
        config.rope_scaling.get("original_max_position_embeddings") or config.max_position_embeddings
    )

    def get_mscale(scale, mscale=1):
        if scale <= 1:
            return 1.0
        return 0.1 * mscale * math.log(scale) + 1.0

    if attention_factor is None:
        if mscale and mscale_all_dim:
            attention_factor = float(get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim))
        else:
            attention_factor = get_mscale(factor)
    beta_fast = config.rope_scaling.get("beta_fast") or 32
    beta_slow = config.rope_scaling.get("beta_slow") or 1

    def find_correction_dim(num_rotations, dim, base, max_position_embeddings):
        return (dim * math.log(max_position_embeddings / (num_rotations * 2 * math.pi))) / (2 * math.log(base))

    def find_correction_range(low_rot, high_rot, dim, base, max_position_embeddings, truncate):
        low = find_correction_dim(low_rot, dim, base, max_position_embeddings)
        high = find_correction_dim(high_rot, dim, base, max_position_embeddings)
        if truncate:
            low = math.floor(low)
            high = math.ceil(high)
        return max(low, 0), min(high, dim - 1)

    def linear_ramp_factor(min, max, dim):  # noqa: A002
        if min == max:
            max += 0.001
        linear_func = (torch.arange(dim, dtype=torch.float32) - min) / (max - min)
        ramp_func = torch.clamp(linear_func, 0, 1)
        return ramp_func

    pos_freqs = base ** (torch.arange(0, dim, 2).to(device=device, dtype=torch.float) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    truncate = config.rope_scaling.get("truncate", True)
    low, high = find_correction_range(beta_fast, beta_slow, dim, base, original_max_position_embeddings, truncate)
    inv_freq_extrapolation_factor = 1 - linear_ramp_factor(low, high, dim // 2).to(device=device, dtype=torch.float)
    inv_freq = (
        inv_freq_interpolation * (1 - inv_freq_extrapolation_factor)
        + inv_freq_extrapolation * inv_freq_extrapolation_factor
    )
    return inv_freq, attention_factor


def _compute_longrope_parameters(config, device, seq_len=None):
    base = config.rope_theta
    partial_rotary_factor = getattr(config, "partial_rotary_factor", 1.0)
    head_dim = getattr(config, "head_dim", config.hidden_size // config.num_attention_heads)
    dim = int(head_dim * partial_rotary_factor)
    long_factor = config.rope_scaling["long_factor"]
    short_factor = config.rope_scaling["short_factor"]
    factor = config.rope_scaling.get("factor")
    attention_factor = config.rope_scaling.get("attention_factor")
    if original_max_position_embeddings := getattr(config, "original_max_position_embeddings", None):
        factor = config.max_position_embeddings / original_max_position_embeddings
    else:
        original_max_position_embeddings = config.max_position_embeddings
    if attention_factor is None:
        if factor <= 1.0:
            attention_factor = 1.0
        else:
            attention_factor = math.sqrt(1 + math.log(factor) / math.log(original_max_position_embeddings))
    if seq_len and seq_len > original_max_position_embeddings:
        ext_factors = torch.tensor(long_factor, dtype=torch.float32, device=device)
    else:
        ext_factors = torch.tensor(short_factor, dtype=torch.float32, device=device)
    inv_freq_shape = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
    inv_freq = 1.0 / (ext_factors * base**inv_freq_shape)
    return inv_freq, attention_factor


def _compute_llama3_parameters(config, device, seq_len=None):
    inv_freq, attention_factor = _compute_default_rope_parameters(config, device, seq_len)
    factor = config.rope_scaling["factor"]
    low_freq_factor = config.rope_scaling["low_freq_factor"]
    high_freq_factor = config.rope_scaling["high_freq_factor"]
    old_context_len = config.rope_scaling["original_max_position_embeddings"]
    low_freq_wavelen = old_context_len / low_freq_factor
    high_freq_wavelen = old_context_len / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    inv_freq_llama = torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    return inv_freq_llama, attention_factor


ROPE_INIT_FUNCTIONS = {
    "default": _compute_default_rope_parameters,
    "linear": _compute_linear_scaling_rope_parameters,
    "dynamic": _compute_dynamic_ntk_parameters,
    "yarn": _compute_yarn_parameters,
    "longrope": _compute_longrope_parameters,
    "llama3": _compute_llama3_parameters,
}


class HFRotaryEmbedding:
    """LlamaRotaryEmbedding (v4.5x) with the stateful @dynamic_rope_update wrapper, transcribed."""

    def __init__(self, config):
        if hasattr(config, "rope_scaling") and isinstance(config.rope_scaling, dict):
            self.rope_type = config.rope_scaling.get("rope_type", config.rope_scaling.get("type"))
        else:
            self.rope_type = "default"
        self.max_seq_len_cached = config.max_position_embeddings
        self.original_max_seq_len = config.max_position_embeddings
        self.config = config
        self.rope_init_fn = ROPE_INIT_FUNCTIONS[self.rope_type]
        inv_freq, self.attention_scaling = self.rope_init_fn(self.config, None)
        self.inv_freq = inv_freq
        self.original_inv_freq = self.inv_freq

    def _longrope_frequency_update(self, position_ids):
        seq_len = torch.max(position_ids) + 1
        if hasattr(self.config, "original_max_position_embeddings"):
            original_max_position_embeddings = self.config.original_max_position_embeddings
        else:
            original_max_position_embeddings = self.config.max_position_embeddings
        if seq_len > original_max_position_embeddings:
            if not hasattr(self, "long_inv_freq"):
                self.long_inv_freq, _ = self.rope_init_fn(self.config, None, seq_len=original_max_position_embeddings + 1)
            self.inv_freq = self.long_inv_freq
        else:
            self.inv_freq = self.original_inv_freq

    def _dynamic_frequency_update(self, position_ids):
        seq_len = torch.max(position_ids) + 1
        if seq_len > self.max_seq_len_cached:
            inv_freq, self.attention_scaling = self.rope_init_fn(self.config, None, seq_len=seq_len)
            self.inv_freq = inv_freq
            self.max_seq_len_cached = seq_len
        if seq_len < self.original_max_seq_len and self.max_seq_len_cached > self.original_max_seq_len:
            self.inv_freq = self.original_inv_freq
            self.max_seq_len_cached = self.original_max_seq_len

    def __call__(self, x, position_ids):
        if "dynamic" in self.rope_type:
            self._dynamic_frequency_update(position_ids)
        elif self.rope_type == "longrope":
            self._longrope_frequency_update(position_ids)
        inv_freq_expanded = self.inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
        position_ids_expanded = position_ids[:, None, :].float()
        freqs = (inv_freq_expanded.float() @ position_ids_expanded.float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos = emb.cos() * self.attention_scaling
        sin = emb.sin() * self.attention_scaling
        return cos.to(dtype=x.dtype), sin.to(dtype=x.dtype)


def hf_config(cfg):
    """The HF config object as the modeling code sees it (Phi3: su/yarn already renamed)."""
    return SimpleNamespace(**cfg)


# ------------------------------------------------------------------------------------------------
# Literal transcription of the HF eager forward (Llama / Mistral / Qwen2 / Qwen3, Gemma, Gemma2,
# Phi3) with a DynamicCache-style past (keys stored after rotation, concatenated along the sequence).
# ------------------------------------------------------------------------------------------------


def _gemma_rms(x, weight, eps):
    def _norm(x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    output = _norm(x.float())
    output = output * (1.0 + weight.float())
    return output.type_as(x)


def _apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):  # Llama / Gemma
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    q_embed = (q * cos) + (hf_rotate_half(q) * sin)
    k_embed = (k * cos) + (hf_rotate_half(k) * sin)
    return q_embed, k_embed


def _phi3_apply_rotary_pos_emb(q, k, cos, sin, unsqueeze_dim=1):
    cos = cos.unsqueeze(unsqueeze_dim)
    sin = sin.unsqueeze(unsqueeze_dim)
    rotary_dim = cos.shape[-1]
    q_rot, q_pass = q[..., :rotary_dim], q[..., rotary_dim:]
    k_rot, k_pass = k[..., :rotary_dim], k[..., rotary_dim:]
    q_embed = torch.cat([(q_rot * cos) + (hf_rotate_half(q_rot) * sin), q_pass], dim=-1)
    k_embed = torch.cat([(k_rot * cos) + (hf_rotate_half(k_rot) * sin), k_pass], dim=-1)
    return q_embed, k_embed


def _hf_window(cfg, layer_idx):
    arch = cfg["architectures"][0]
    if arch == "Gemma2ForCausalLM":  # v4.45: config.sliding_window if not bool(layer_idx % 2) else None
        return cfg["sliding_window"] if not bool(layer_idx % 2) else None
    if arch in ("Phi3ForCausalLM", "MistralForCausalLM"):
        return cfg.get("sliding_window")
    return None


def hf_literal_forward(model, rotary, input_ids, cache_position, past=None):
    """HF eager forward of input_ids [T] at cache_position [T]; ``past`` (list of [k, v]) is extended."""
    cfg, sd = model.config, model.state_dict()
    arch = cfg["architectures"][0]
    gemma, gemma2, phi3 = arch.startswith("Gemma"), arch == "Gemma2ForCausalLM", arch == "Phi3ForCausalLM"
    n_heads, n_kv, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    norm = _gemma_rms if gemma else hf_rms_norm
    length = input_ids.shape[0]
    x = F.embedding(input_ids[None], sd["model.embed_tokens.weight"])
    if gemma:
        normalizer = torch.tensor(cfg["hidden_size"] ** 0.5, dtype=x.dtype)
        x = x * normalizer
    dtype = x.dtype
    position_ids = cache_position[None]
    cos, sin = rotary(x, position_ids)
    if gemma2:
        scaling = cfg["query_pre_attn_scalar"] ** -0.5
    elif gemma:
        scaling = 1 / math.sqrt(cfg["head_dim"])
    else:
        scaling = d ** -0.5
    if gemma:
        act = F.gelu if cfg.get("hidden_activation") == "gelu" else (lambda t: F.gelu(t, approximate="tanh"))
    else:
        act = F.silu

    def linear(name, h):
        return hf_linear(sd, name, h)

    past_len = 0 if not past else past[0][0].shape[2]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        residual = x
        h = norm(x, sd[p + "input_layernorm.weight"], eps)
        if phi3:
            qkv = linear(p + "self_attn.qkv_proj", h)
            query_pos = n_heads * d
            q = qkv[..., :query_pos]
            k = qkv[..., query_pos: query_pos + n_kv * d]
            v = qkv[..., query_pos + n_kv * d:]
        else:
            q, k, v = (linear(p + f"self_attn.{n}_proj", h) for n in "qkv")
        q, k, v = (t.view(1, length, -1, d) for t in (q, k, v))
        if p + "self_attn.q_norm.weight" in sd:
            q = hf_rms_norm(q, sd[p + "self_attn.q_norm.weight"], eps)
            k = hf_rms_norm(k, sd[p + "self_attn.k_norm.weight"], eps)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        q, k = (_phi3_apply_rotary_pos_emb if phi3 else _apply_rotary_pos_emb)(q, k, cos, sin)
        if past is not None:
            if len(past) <= i:
                past.append([k, v])
            else:
                past[i] = [torch.cat([past[i][0], k], dim=2), torch.cat([past[i][1], v], dim=2)]
            k, v = past[i]
        key_states, value_states = hf_repeat_kv(k, n_heads // n_kv), hf_repeat_kv(v, n_heads // n_kv)
        w = torch.matmul(q, key_states.transpose(2, 3)) * scaling
        if gemma2 and cfg.get("attn_logit_softcapping") is not None:
            w = w / cfg["attn_logit_softcapping"]
            w = torch.tanh(w)
            w = w * cfg["attn_logit_softcapping"]
        kv_idx = torch.arange(past_len + length)[None, :]
        q_idx = cache_position[:, None]
        allowed = kv_idx <= q_idx
        window = _hf_window(cfg, i)
        if window is not None:
            allowed = allowed & (kv_idx > q_idx - window)
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        w = w + mask[None, None]
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(w, value_states).transpose(1, 2).contiguous().reshape(1, length, -1)
        o = linear(p + "self_attn.o_proj", o)
        if gemma2:
            o = norm(o, sd[p + "post_attention_layernorm.weight"], eps)
        x = residual + o
        residual = x
        if gemma2:
            h = norm(x, sd[p + "pre_feedforward_layernorm.weight"], eps)
        else:
            h = norm(x, sd[p + "post_attention_layernorm.weight"], eps)
        if phi3:
            up_states = linear(p + "mlp.gate_up_proj", h)
            gate, up_states = up_states.chunk(2, dim=-1)
            up_states = up_states * act(gate)
            h = linear(p + "mlp.down_proj", up_states)
        else:
            h = linear(p + "mlp.down_proj", act(linear(p + "mlp.gate_proj", h)) * linear(p + "mlp.up_proj", h))
        if gemma2:
            h = norm(h, sd[p + "post_feedforward_layernorm.weight"], eps)
        x = residual + h
    x = norm(x, sd["model.norm.weight"], eps)
    logits = F.linear(x, sd["lm_head.weight"] if "lm_head.weight" in sd else sd["model.embed_tokens.weight"])
    if gemma2 and cfg.get("final_logit_softcapping") is not None:
        logits = logits / cfg["final_logit_softcapping"]
        logits = torch.tanh(logits)
        logits = logits * cfg["final_logit_softcapping"]
    return logits[0].float()


def hf_literal_logits(model, input_ids):
    return hf_literal_forward(model, HFRotaryEmbedding(hf_config(model.config)), input_ids,
                              torch.arange(input_ids.shape[0]))


FAMILY_LITERAL_LOGITS = {arch: hf_literal_logits for arch in FAMILY_ARCHS}


def hf_generate(model, prompt, new_tokens, use_cache):
    """HF generate (greedy) with one model instance (one stateful rotary); returns the last-row
    logits of every call (float32) and the tokens."""
    cfg = model.config
    rotary = HFRotaryEmbedding(hf_config(cfg))
    ids = list(prompt)
    rows = []
    past = [] if use_cache else None
    with torch.no_grad():
        logits = hf_literal_forward(model, rotary, torch.tensor(ids), torch.arange(len(ids)), past)
        rows.append(logits[-1])
        for _ in range(new_tokens - 1):
            ids.append(int(torch.argmax(logits[-1])))
            if not use_cache:
                logits = hf_literal_forward(model, rotary, torch.tensor(ids), torch.arange(len(ids)))
            else:
                # Phi3ForCausalLM.prepare_inputs_for_generation: drop the cache at the switch length
                if (cfg["architectures"][0] == "Phi3ForCausalLM" and past and cfg.get("rope_scaling")
                        and len(ids) >= cfg["original_max_position_embeddings"] + 1
                        and len(ids) - 1 <= cfg["original_max_position_embeddings"]):
                    past = []
                if past:
                    logits = hf_literal_forward(model, rotary, torch.tensor(ids[-1:]), torch.tensor([len(ids) - 1]),
                                                past)
                else:
                    logits = hf_literal_forward(model, rotary, torch.tensor(ids), torch.arange(len(ids)), past)
            rows.append(logits[-1])
    ids.append(int(torch.argmax(logits[-1])))
    return torch.stack(rows), ids[len(prompt):]


def reference_cached_rows(model, prompt, new_tokens):
    """Last-row logits of every call of the reference's cached generation (same calls as
    greedy_generate_with_cache, re-prefill included)."""
    k_cache, v_cache = model.new_kv_cache(len(prompt) + new_tokens)
    tokens, _ = greedy_generate_with_cache(model, prompt, new_tokens, k_cache, v_cache)
    k_cache, v_cache = model.new_kv_cache(len(prompt) + new_tokens)
    rows = []
    original = model.forward_with_cache

    def recording(*args):
        out = original(*args)
        rows.append(out[-1])
        return out

    model.forward_with_cache = recording
    try:
        teacher_forced_with_cache(model, prompt, tokens, k_cache, v_cache)
    finally:
        del model.forward_with_cache
    return torch.stack(rows), tokens


# Llama rope configurations, with switch lengths small enough for a 12 + 14 token run.
LLAMA_ROPES = {
    "linear": ({"rope_type": "linear", "factor": 2.0}, {}),
    "linear_legacy_type_int_factor": ({"type": "linear", "factor": 3}, {}),
    "dynamic": ({"rope_type": "dynamic", "factor": 2.0}, {"max_position_embeddings": 16}),
    "dynamic_legacy_type": ({"type": "dynamic", "factor": 3.0}, {"max_position_embeddings": 16}),
    "yarn": ({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}, {}),
    "yarn_mscale": ({"rope_type": "yarn", "factor": 8.0, "mscale": 1.0, "mscale_all_dim": 0.5, "beta_fast": 16.0,
                     "beta_slow": 2.0}, {"max_position_embeddings": 32}),
    "yarn_untruncated_attention_factor": ({"rope_type": "yarn", "factor": 4.0, "truncate": False,
                                           "attention_factor": 1.3, "original_max_position_embeddings": 16}, {}),
    "longrope": ({"rope_type": "longrope", "short_factor": [1.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6],
                  "long_factor": [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0]},
                 {"max_position_embeddings": 64, "original_max_position_embeddings": 16}),
    "longrope_factor": ({"type": "longrope", "factor": 2.0, "short_factor": [1.0] * 8,
                         "long_factor": [1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0]}, {"max_position_embeddings": 16}),
    "llama3": ({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                "original_max_position_embeddings": 16}, {}),
}


def llama_with_rope(name, arch="llama", dtype=torch.float32):
    scaling, extra = LLAMA_ROPES[name]
    return tiny_model(arch, dtype, **{"rope_scaling": dict(scaling), **extra})


class RopeScalingTest(unittest.TestCase):
    def test_init_frequencies_match_hf(self):
        for name in LLAMA_ROPES:
            with self.subTest(rope=name):
                cfg = llama_with_rope(name).config
                rope_type = cfg["rope_scaling"].get("rope_type", cfg["rope_scaling"].get("type"))
                want, scaling = ROPE_INIT_FUNCTIONS[rope_type](hf_config(cfg), None)
                self.assertTrue(torch.equal(rope_inv_freq(cfg), want), name)
                rotary = build_model(cfg).model.rotary_emb
                self.assertTrue(torch.equal(rotary.inv_freq, want), name)
                self.assertEqual(rotary.attention_scaling, scaling, name)
        phi3 = tiny_config("phi3")
        want, scaling = _compute_longrope_parameters(hf_config(phi3), None)
        self.assertTrue(torch.equal(rope_inv_freq(phi3), want))
        self.assertAlmostEqual(scaling, math.sqrt(1 + math.log(4) / math.log(16)), places=12)
        self.assertEqual(build_model(phi3).model.rotary_emb.attention_scaling, scaling)

    def test_per_call_tables_match_stateful_hf_rotary(self):
        # Prefill then one position per call (what generation does): HF's stateful update and the
        # reference's per-call tables must agree bit for bit, before and after the switch.
        for name in LLAMA_ROPES:
            with self.subTest(rope=name):
                model = llama_with_rope(name, dtype=torch.bfloat16)
                hf = HFRotaryEmbedding(hf_config(model.config))
                x = torch.zeros(1, dtype=torch.bfloat16)
                calls = [torch.arange(12)] + [torch.tensor([p]) for p in range(12, 26)] + [torch.arange(30)]
                for positions in calls:
                    want_cos, want_sin = hf(x, positions[None])
                    cos, sin = model.model.rotary_emb(positions, torch.bfloat16)
                    self.assertTrue(torch.equal(cos, want_cos[0]) and torch.equal(sin, want_sin[0]),
                                    f"{name} at positions {positions.tolist()[-1]}")

    def test_generation_matches_hf_cached_and_uncached(self):
        prompt = token_ids(12, seed=1).tolist()
        for name in LLAMA_ROPES:
            with self.subTest(rope=name):
                model = llama_with_rope(name)
                rows, tokens = reference_cached_rows(model, prompt, 14)
                want_rows, want_tokens = hf_generate(model, prompt, 14, use_cache=True)
                self.assertEqual(tokens, want_tokens, name)
                self.assertLessEqual(rel_error(rows, want_rows), 1e-5, name)
                if rope_depends_on_call(model.config):  # the uncached mode differs after the switch
                    tokens, first = greedy_generate(model, prompt, 14)
                    uncached_rows, want_tokens = hf_generate(model, prompt, 14, use_cache=False)
                    self.assertEqual(tokens, want_tokens, name)
                    self.assertTrue(torch.equal(first, uncached_rows[0]), name)
                    if name in ("dynamic", "longrope"):
                        self.assertGreater(rel_error(want_rows[-1], uncached_rows[-1]), 1e-3, name)

    def test_cache_matches_forward_for_static_types(self):
        ids, pos = token_ids(20, seed=2), torch.arange(20)
        for name in ("yarn", "yarn_mscale", "llama3", "linear"):
            with self.subTest(rope=name):
                model = llama_with_rope(name)
                k_cache, v_cache = model.new_kv_cache(24)
                rows = [model.forward_with_cache(ids[:9], pos[:9], k_cache, v_cache)]
                rows += [model.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache) for i in range(9, 20)]
                self.assertLessEqual(rel_error(torch.cat(rows), model(ids, pos)), 1e-5, name)

    def test_trace_crosses_the_switch(self):
        # Traced at 8 tokens (short / original regime), run at 20 (long / grown regime).
        for model in (llama_with_rope("dynamic"), tiny_model("phi3")):
            with self.subTest(arch=model.architecture, rope=model.config["rope_scaling"]):
                ids, pos = token_ids(8), torch.arange(8)
                k_cache, v_cache = model.new_kv_cache(24)
                with torch.no_grad():
                    traced = torch.jit.trace_module(
                        model, {"forward": (ids, pos), "forward_with_cache": (ids, pos, k_cache, v_cache)},
                        check_trace=False)
                ids20, pos20 = token_ids(20, seed=5), torch.arange(20)
                self.assertTrue(torch.equal(traced(ids20, pos20), model(ids20, pos20)))
                self.assertTrue(torch.equal(traced(ids20[:5], pos20[:5]), model(ids20[:5], pos20[:5])))
                results = []
                for fn in (traced.forward_with_cache, model.forward_with_cache):
                    k, v = model.new_kv_cache(24)
                    rows = [fn(ids20[:14], pos20[:14], k, v)]
                    rows += [fn(ids20[i:i + 1], pos20[i:i + 1], k, v) for i in range(14, 20)]
                    results.append(torch.cat(rows))
                self.assertLessEqual(rel_error(results[0], results[1]), 1e-6)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "unknown rope type 'su'"):
            build_model(tiny_config("llama", overrides={"rope_scaling": {"type": "su", "factor": 2.0}}))
        with self.assertRaisesRegex(ValueError, "partial_rotary_factor"):
            build_model(tiny_config("llama", overrides={"partial_rotary_factor": 0.5}))
        with self.assertRaisesRegex(ValueError, "needs 'factor'"):
            build_model(tiny_config("llama", overrides={"rope_scaling": {"rope_type": "yarn"}}))
        with self.assertRaisesRegex(ValueError, "long_factor has 3 entries"):
            build_model(tiny_config("llama", overrides={"rope_scaling": {
                "rope_type": "longrope", "factor": 2.0, "short_factor": [1.0] * 8, "long_factor": [1.0] * 3}}))
        with self.assertRaisesRegex(ValueError, "Phi3 rope_scaling type must be 'longrope'"):
            tiny_config("phi3", overrides={"rope_scaling": {"type": "linear", "factor": 2.0}})
        legacy = tiny_config("phi3", overrides={"rope_scaling": {"type": "su", "short_factor": [1.0] * 6,
                                                                 "long_factor": [2.0] * 6}})
        self.assertEqual(legacy["rope_scaling"]["type"], "longrope")


class FamilyModelTest(unittest.TestCase):
    def test_tiny_shapes_and_checkpoint_names(self):
        gemma = tiny_model("gemma")
        self.assertEqual(tuple(gemma.model.layers[0].self_attn.q_proj.weight.shape), (128, 64))  # head_dim 32
        self.assertEqual(gemma.kv_cache_shape(32), (2, 32, 2, 32))
        self.assertNotIn("lm_head.weight", gemma.checkpoint_state_dict())  # tied
        gemma2 = tiny_model("gemma2")
        names = set(gemma2.checkpoint_state_dict())
        for norm in ("input", "post_attention", "pre_feedforward", "post_feedforward"):
            self.assertIn(f"model.layers.1.{norm}_layernorm.weight", names)
        phi3 = tiny_model("phi3")
        sd = phi3.checkpoint_state_dict()
        self.assertEqual(tuple(sd["model.layers.0.self_attn.qkv_proj.weight"].shape), ((4 + 2 * 2) * 16, 64))
        self.assertEqual(tuple(sd["model.layers.0.mlp.gate_up_proj.weight"].shape), (256, 64))
        self.assertEqual(phi3.kv_cache_shape(8), (2, 8, 2, 16))
        self.assertIn("lm_head.weight", sd)
        self.assertFalse(any(n.endswith("bias") for n in sd))
        for arch in FAMILY_ARCHS:
            logits = tiny_model(arch)(token_ids(5), torch.arange(5))
            self.assertEqual((tuple(logits.shape), logits.dtype), ((5, 250), torch.float32))
            self.assertGreater(float(logits.std()), 3.0, f"{arch}: logits are not peaked")

    def test_hf_default_resolution(self):
        gemma = resolve_config({"architectures": ["GemmaForCausalLM"]})
        self.assertEqual((gemma["head_dim"], gemma["num_key_value_heads"], gemma["tie_word_embeddings"],
                          gemma["rms_norm_eps"], gemma["hidden_activation"]), (256, 16, True, 1e-6, None))
        gemma2 = resolve_config({"model_type": "gemma2"})
        self.assertEqual((gemma2["architectures"], gemma2["query_pre_attn_scalar"], gemma2["sliding_window"],
                          gemma2["attn_logit_softcapping"], gemma2["final_logit_softcapping"]),
                         (["Gemma2ForCausalLM"], 256, 4096, 50.0, 30.0))
        self.assertEqual(layer_sliding_windows(gemma2)[:4], [4096, None, 4096, None])
        custom = resolve_config({"model_type": "gemma2", "num_hidden_layers": 3,
                                 "layer_types": ["full_attention", "sliding_attention", "full_attention"]})
        self.assertEqual(layer_sliding_windows(custom), [None, 4096, None])
        phi3 = resolve_config({"architectures": ["Phi3ForCausalLM"]})
        self.assertEqual((phi3["num_key_value_heads"], phi3["head_dim"], phi3["original_max_position_embeddings"],
                          phi3["rms_norm_eps"], phi3["tie_word_embeddings"], phi3["sliding_window"]),
                         (32, 96, 4096, 1e-5, False, None))
        self.assertIsNone(build_model(dict(tiny_config("phi3"), rope_scaling=None)).reprefill_at_length)
        self.assertEqual(tiny_model("phi3").reprefill_at_length, 17)
        # Gemma 1 legacy: hidden_act "gelu" without hidden_activation still means the tanh GELU.
        legacy = build_model(tiny_config("gemma", overrides={"hidden_activation": None}))
        self.assertEqual(legacy.model.layers[0].mlp.act_fn.name, "gelu_pytorch_tanh")
        exact = build_model(tiny_config("gemma", overrides={"hidden_activation": "gelu"}))
        self.assertEqual(exact.model.layers[0].mlp.act_fn.name, "gelu")
        path = os.path.join(CONFIG_DIR, "gemma_2b_it", "config.json")
        if os.path.exists(path):
            with open(path) as f:
                real = build_model(dict(json.load(f), num_hidden_layers=1, vocab_size=16, hidden_size=64,
                                        intermediate_size=8, head_dim=8, num_attention_heads=2))
            self.assertEqual(real.model.layers[0].mlp.act_fn.name, "gelu_pytorch_tanh")

    def test_literal_hf_with_exact_gelu_and_rope_scaling(self):
        # The family models follow the HF code in f32 bit for bit, with every rope type too.
        ids = token_ids(20, seed=3)
        cases = [("gemma", {"hidden_activation": "gelu", "rope_scaling": {"type": "yarn", "factor": 4.0}}),
                 ("gemma2", {"rope_scaling": {"rope_type": "dynamic", "factor": 2.0}, "max_position_embeddings": 16}),
                 ("gemma2", {"attention_bias": True, "sliding_window": 4}),
                 ("phi3", {"partial_rotary_factor": 1.0, "rope_scaling": None, "sliding_window": None}),
                 ("phi3", {})]
        for arch, overrides in cases:
            with self.subTest(arch=arch, overrides=overrides):
                model = tiny_model(arch, **overrides)
                self.assertTrue(torch.equal(model(ids, torch.arange(20)), hf_literal_logits(model, ids)))

    def test_family_generation_matches_hf(self):
        # 16-token prompt: Phi3 crosses original_max_position_embeddings (16) while decoding, and
        # HF's generate re-prefills there; Gemma 2's window (8) is crossed in the prompt.
        prompt = token_ids(16, seed=4).tolist()
        for arch in FAMILY_ARCHS:
            with self.subTest(arch=arch):
                model = tiny_model(arch)
                rows, tokens = reference_cached_rows(model, prompt, 8)
                want_rows, want_tokens = hf_generate(model, prompt, 8, use_cache=True)
                self.assertEqual(tokens, want_tokens)
                self.assertLessEqual(rel_error(rows, want_rows), 1e-5)
                self.assertEqual(greedy_generate(model, prompt, 8)[0], want_tokens)  # same semantics for Phi3
        phi3 = tiny_model("phi3")
        phi3.reprefill_at_length = None  # without HF's cache drop the cached run differs
        no_drop = reference_cached_rows(phi3, prompt, 8)[0]
        self.assertGreater(rel_error(no_drop[1:], rows[1:]), 1e-3)

    def test_gemma2_softcapping_and_window_change_results(self):
        ids, pos = token_ids(16, seed=6), torch.arange(16)
        base = tiny_model("gemma2")
        want = base(ids, pos)
        for overrides in ({"attn_logit_softcapping": None}, {"final_logit_softcapping": None},
                          {"sliding_window": None}, {"query_pre_attn_scalar": 32}):
            with self.subTest(overrides=overrides):
                other = tiny_model("gemma2", **overrides)
                self.assertGreater(rel_error(other(ids, pos), want), 1e-3)
        self.assertLessEqual(float(want.abs().max()), 15.0)  # final soft-cap bound
        windowless = tiny_model("gemma2", sliding_window=None)
        self.assertTrue(torch.equal(windowless(ids[:8], pos[:8]), base(ids[:8], pos[:8])))
        layer0 = base.model.layers[0].self_attn
        self.assertEqual((layer0.sliding_window, base.model.layers[1].self_attn.sliding_window), (8, None))
        self.assertEqual(layer0.scaling, 24 ** -0.5)

    def test_gemma_norm_and_embedding_numerics(self):
        model = tiny_model("gemma", dtype=torch.bfloat16)
        norm = model.model.norm
        x = torch.randn(3, 64).bfloat16()
        want = (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + 1e-6)
                * (1.0 + norm.weight.float())).bfloat16()
        self.assertTrue(torch.equal(norm(x), want))
        hidden = 3072  # bf16 rounds sqrt(3072) = 55.43 to 55.5 before the multiply, as HF does
        self.assertEqual(float(torch.tensor(hidden ** 0.5, dtype=torch.bfloat16)), 55.5)


class FamilyCliTest(TempDirMixin, unittest.TestCase):
    def test_rope_types_through_the_clis(self):
        prompt_ids = token_ids(12, seed=7).tolist()
        prompt = ",".join(map(str, prompt_ids))
        cases = {
            "dynamic": ["llama", "--max-pos", "16", "--set", 'rope_scaling={"rope_type":"dynamic","factor":2.0}'],
            "longrope": ["llama", "--max-pos", "64", "--set", "original_max_position_embeddings=16", "--set",
                         'rope_scaling={"type":"longrope","short_factor":[1,1,1,1,1,1,1,1],'
                         '"long_factor":[1,2,3,4,5,6,7,8]}'],
            "phi3": ["phi3"],
        }
        for name, args in cases.items():
            with self.subTest(rope=name):
                out = os.path.join(self.tmp, name)
                self.assertEqual(run_main(make_tiny_model.main, [args[0], out, "--dtype", "bf16"] + args[1:])[0], 0)
                model = load_model(out)
                common = [out, "--prompt-ids", prompt, "--max-new-tokens", "12", "--json"]
                cached = json.loads(run_main(run_reference.main, common + ["--kv-cache"])[1])
                self.assertEqual(cached["tokens"], hf_generate(model, prompt_ids, 12, use_cache=True)[1])
                forced = json.loads(run_main(run_reference.main, common + [
                    "--kv-cache", "--teacher-forced", ",".join(map(str, cached["tokens"]))])[1])
                self.assertEqual(forced["predictions"], cached["tokens"])
                uncached = json.loads(run_main(run_reference.main, common)[1])
                self.assertEqual(uncached["tokens"], hf_generate(model, prompt_ids, 12, use_cache=False)[1])
                if name == "phi3":  # the cache check of trace_model crosses the switch (prefill 14 + 4)
                    code, text = run_main(trace_model.main, [out, os.path.join(self.tmp, name + ".pt"), "--tokens",
                                                         "14", "--with-cache", "24"])
                    self.assertEqual(code, 0, text)


class HFStyleTraceTest(unittest.TestCase):
    def test_signatures_generalize(self):
        llama_cases = (("input_ids", "arange", False), ("input_ids", "cumsum", True),
                       ("position_ids", "arange", False), ("attention_mask", "arange", True))
        for arch, cases in (("llama", llama_cases), ("phi3", [("input_ids", "arange", False)]),
                            ("gemma2", [("attention_mask", "arange", False)])):
            model = tiny_model(arch)
            for inputs, positions, batched in cases:
                with self.subTest(arch=arch, inputs=inputs, positions=positions, batched=batched):
                    traced, reports = hf_style_trace.trace_hf_style(model, inputs, 6, positions, batched)
                    self.assertGreaterEqual(len(reports), 2)
                    ids = token_ids(19, seed=8)
                    args = hf_style_trace.example_inputs(inputs, 19, 250, 0, batched)
                    args = (ids[None] if batched else ids,) + args[1:]
                    got = traced(*args)
                    self.assertTrue(torch.equal(got[0] if batched else got, model(ids, torch.arange(19))))
                    self.assertTrue(set(model.checkpoint_state_dict()) <= set(traced.state_dict()))
                    graph_inputs = list(traced.graph.inputs())[1:]
                    self.assertEqual(len(graph_inputs), len(hf_style_trace.SIGNATURES[inputs]))

    def test_cli_saves_metadata(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "phi3")
            run_main(make_tiny_model.main, ["phi3", out])
            pt = os.path.join(tmp, "phi3.pt")
            code, text = run_main(hf_style_trace.main, [out, pt, "--inputs", "attention_mask"])
            self.assertEqual(code, 0, text)
            self.assertIn("T=19: ok", text)  # beyond LongRoPE's switch
            extra = {"config.json": "", "vgcu_ref.json": ""}
            traced = torch.jit.load(pt, _extra_files=extra)
            meta = json.loads(extra["vgcu_ref.json"])
            self.assertEqual(meta["signature"], ["input_ids", "attention_mask"])
            self.assertEqual(json.loads(extra["config.json"])["architectures"], ["Phi3ForCausalLM"])
            model = load_model(out)
            ids = token_ids(7)
            self.assertTrue(torch.equal(traced(ids, torch.ones(7, dtype=torch.long)), model(ids, torch.arange(7))))


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
