"""Helpers shared by the reference self-tests: test_reference.py and the family test modules
(test_rope_families.py, test_remote_families.py, test_moe_families.py).

Models and inputs (tiny presets with seeded weights, token sequences), comparisons, CLI capture, a
temporary directory per test, models built on the meta device, and the pieces of Hugging Face's
eager code that the literal transcriptions share (batched [1, heads, T, D] layout, additive
finfo.min mask), including the whole Llama-family forward with the default rope.
"""

import contextlib
import io
import os
import sys
import tempfile

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref.models import build_model  # noqa: E402
from vgcu_ref.tiny import init_random_weights, tiny_config  # noqa: E402

# ------------------------------------------------------------------------------------------------
# Models, inputs, comparisons
# ------------------------------------------------------------------------------------------------


def tiny_model(arch, dtype=torch.float32, seed=0, **overrides):
    """The tiny preset of ``arch`` (HF config overrides as keywords), seeded weights, in ``dtype``."""
    model = build_model(tiny_config(arch, overrides=overrides))
    init_random_weights(model, seed)
    return model.to(dtype)


def token_ids(length, seed=0, vocab=250):
    return torch.randint(0, vocab, (length,), generator=torch.Generator().manual_seed(seed))


def sequence(length, seed=0, vocab=250):
    """(token ids, positions 0..length-1)."""
    return token_ids(length, seed, vocab), torch.arange(length)


def rel_error(got, want):
    """Max absolute difference relative to the largest magnitude of ``want``."""
    return float((got.float() - want.float()).abs().max()) / (float(want.abs().max()) or 1.0)


def assert_close(test, got, want, rel=1e-5, msg=""):
    err = rel_error(got, want)
    test.assertLessEqual(err, rel, f"{msg}: max relative error {err:.3g}")


def run_main(main, argv):
    """(exit code, stdout) of a CLI's ``main(argv)``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


class TempDirMixin:
    """unittest.TestCase mixin: ``self.tmp`` is a fresh directory, removed after each test."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()


@contextlib.contextmanager
def meta_device():
    """Tensor factories default to the meta device (torch 1.13 has no ``with torch.device("meta")``):
    real-size models are built without allocating their weights."""
    names = ("empty", "ones", "zeros", "arange", "full")
    saved = {name: getattr(torch, name) for name in names}

    def wrap(factory):
        def meta_factory(*args, **kwargs):
            if kwargs.get("device") is None:
                kwargs["device"] = "meta"
            return factory(*args, **kwargs)
        return meta_factory

    for name in names:
        setattr(torch, name, wrap(saved[name]))
    try:
        yield
    finally:
        for name, factory in saved.items():
            setattr(torch, name, factory)


# ------------------------------------------------------------------------------------------------
# Literal transcriptions of HF's eager code, shared by the oracles of the test modules.
# ------------------------------------------------------------------------------------------------


def hf_rms_norm(hidden_states, weight, eps):
    """LlamaRMSNorm.forward."""
    input_dtype = hidden_states.dtype
    hidden_states = hidden_states.to(torch.float32)
    variance = hidden_states.pow(2).mean(-1, keepdim=True)
    hidden_states = hidden_states * torch.rsqrt(variance + eps)
    return weight * hidden_states.to(input_dtype)


def hf_rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def hf_repeat_kv(hidden_states, n_rep):
    batch, num_key_value_heads, slen, head_dim = hidden_states.shape
    if n_rep == 1:
        return hidden_states
    hidden_states = hidden_states[:, :, None, :, :].expand(batch, num_key_value_heads, n_rep, slen, head_dim)
    return hidden_states.reshape(batch, num_key_value_heads * n_rep, slen, head_dim)


def hf_causal_mask(length, dtype, window=None):
    """[1, 1, T, T] additive mask: finfo.min after the query (and at window W or more before it), else 0."""
    i = torch.arange(length)[:, None]
    j = torch.arange(length)[None, :]
    masked = j > i
    if window is not None:
        masked = masked | (i - j >= window)
    return torch.zeros(length, length, dtype=dtype).masked_fill(masked, torch.finfo(dtype).min)[None, None]


def hf_linear(sd, name, x):
    """nn.Linear ``name`` of a state dict (bias when the checkpoint has one)."""
    return F.linear(x, sd[name + ".weight"], sd.get(name + ".bias"))


def hf_default_rope(theta, dim, length, dtype):
    """LlamaRotaryEmbedding (rope_type "default") at positions 0..length-1: cos, sin [1, 1, T, dim]."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    position_ids = torch.arange(length)[None]
    freqs = (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]


def hf_llama_logits(model, input_ids, windows=None, feed_forward=None):
    """HF Llama / Mistral / Qwen2 / Qwen3 (q/k norms) eager forward with the default rope: float32 [T, V].

    ``windows``: the sliding window of each layer (None: none); ``feed_forward(i, p, h)`` replaces the
    SiLU MLP of layer i (checkpoint prefix p), e.g. with an MoE block.
    """
    cfg = model.config
    sd = model.state_dict()
    n_heads, n_kv, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    length = input_ids.shape[0]
    x = F.embedding(input_ids[None], sd["model.embed_tokens.weight"])
    dtype = x.dtype
    cos, sin = hf_default_rope(cfg["rope_theta"], d, length, dtype)
    for i, window in enumerate(windows or [None] * cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        residual = x
        h = hf_rms_norm(x, sd[p + "input_layernorm.weight"], eps)
        q = hf_linear(sd, p + "self_attn.q_proj", h).view(1, length, -1, d)
        k = hf_linear(sd, p + "self_attn.k_proj", h).view(1, length, -1, d)
        v = hf_linear(sd, p + "self_attn.v_proj", h).view(1, length, -1, d).transpose(1, 2)
        if p + "self_attn.q_norm.weight" in sd:
            q = hf_rms_norm(q, sd[p + "self_attn.q_norm.weight"], eps)
            k = hf_rms_norm(k, sd[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = (q * cos) + (hf_rotate_half(q) * sin)
        k = (k * cos) + (hf_rotate_half(k) * sin)
        k, v = hf_repeat_kv(k, n_heads // n_kv), hf_repeat_kv(v, n_heads // n_kv)
        w = torch.matmul(q, k.transpose(2, 3)) * d ** -0.5
        w = w + hf_causal_mask(length, dtype, window)
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        o = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(1, length, -1)
        x = residual + hf_linear(sd, p + "self_attn.o_proj", o)
        residual = x
        h = hf_rms_norm(x, sd[p + "post_attention_layernorm.weight"], eps)
        if feed_forward is None:
            h = hf_linear(sd, p + "mlp.down_proj",
                          F.silu(hf_linear(sd, p + "mlp.gate_proj", h)) * hf_linear(sd, p + "mlp.up_proj", h))
        else:
            h = feed_forward(i, p, h)
        x = residual + h
    x = hf_rms_norm(x, sd["model.norm.weight"], eps)
    return F.linear(x, sd["lm_head.weight"])[0].float()
