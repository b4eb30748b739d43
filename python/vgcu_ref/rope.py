"""Rotary position embeddings with Hugging Face's ``rope_scaling`` semantics (modeling_rope_utils.py).

Followed source: transformers v4.5x ``src/transformers/modeling_rope_utils.py`` (the version with
``dynamic_rope_update``, the yarn ``truncate`` flag and ``mscale``/``mscale_all_dim``, i.e. v4.55 -
v4.57), and the rotary ``forward`` shared by Llama, Mistral, Qwen2/3, Gemma/Gemma2 and Phi3::

    freqs = (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos = emb.cos() * self.attention_scaling        # float32
    sin = emb.sin() * self.attention_scaling
    return cos.to(x.dtype), sin.to(x.dtype)

(the matmul has an inner dimension of 1, so it is exactly the elementwise product used here; the
multiply by ``attention_scaling`` is skipped when it is 1.0, which is exact).

Rope types (``rope_scaling["rope_type"]``, or the legacy ``rope_scaling["type"]``, which wins when
both are present because HF's config classes copy ``type`` over ``rope_type``; v5 configs may carry
the same dict as ``rope_parameters``):

  default   inv_freq[i] = 1 / theta ** (2i / dim)       (float32; ``theta ** f32 tensor``)
  linear    default inv_freq / factor
  llama3    Llama 3.1 smoothing between low/high frequency wavelengths (static)
  yarn      static inv_freq blended between inv_freq/factor and inv_freq by a ramp over
            [low, high] = correction range of beta_fast / beta_slow at
            rope_scaling.original_max_position_embeddings (or max_position_embeddings), floored /
            ceiled unless ``truncate`` is false; attention_scaling = attention_factor, else
            mscale(factor, mscale) / mscale(factor, mscale_all_dim) when both are set, else
            0.1 * ln(factor) + 1 (1.0 when factor <= 1). cos AND sin are multiplied by it in float32.
  dynamic   NTK: per forward call, seq_len = max(positions) + 1. If seq_len > max_position_embeddings
            (the config's, NOT rope_scaling.original_max_position_embeddings: HF's TODO), inv_freq is
            recomputed in float32 tensor arithmetic from the 0-dim int64 seq_len:
                base = theta * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
                inv_freq = 1.0 / (base ** (arange(0, dim, 2).float() / dim))
            otherwise the init-time inv_freq is used (computed with seq_len = max_pos in Python
            doubles, which equals the default inv_freq for ordinary factors).
  longrope  per forward call, seq_len = max(positions) + 1; inv_freq = 1 / (ext * theta ** (2i/dim))
            with ext = long_factor if seq_len > original_max_position_embeddings else short_factor.
            original_max_position_embeddings is the TOP-LEVEL config field (Phi3 has it; HF v4 ignores
            the rope_scaling key of that name for longrope) and then factor = max_pos / original;
            without it original = max_position_embeddings and factor = rope_scaling["factor"].
            attention_scaling = attention_factor, else sqrt(1 + ln(factor) / ln(original)) (1.0 when
            factor <= 1), applied to cos and sin in float32.

HF's dynamic and longrope updates are stateful (``dynamic_rope_update`` keeps the largest seq_len seen
and only resets below max_position_embeddings). The references are stateless: every call uses the
frequencies of ITS OWN positions. That equals HF for every call sequence whose max position never
decreases (prefill + decode, or recomputing a growing sequence), which is all generation does. In a
cached decode the keys already in the cache keep the rotation of the call that wrote them (as in HF
and in any KV-cached runtime), so a cached run differs from a full forward once the regime changes.

``partial_rotary_factor`` (top-level config field, or in rope_parameters) makes dim =
int(head_dim * factor): inv_freq and cos/sin cover only the first ``dim`` channels. Only models whose
HF ``apply_rotary_pos_emb`` slices ``q[..., :rotary_dim]`` (Phi3) accept it; for the others HF would fail
with a broadcast error, so ``build_rotary_embedding(cfg, allow_partial=False)`` raises ValueError.

Everything is traceable with a dynamic token count: the per-call choice is ``torch.where`` on a 0-dim
condition computed from ``positions``.
"""

import math
from typing import Optional, Tuple

import torch
from torch import nn

ROPE_TYPES = ("default", "linear", "dynamic", "yarn", "longrope", "llama3")
# Rope types whose frequencies depend on the positions of the current forward call.
CALL_DEPENDENT_ROPE_TYPES = ("dynamic", "longrope")


def rope_scaling_dict(cfg: dict) -> dict:
    """The rope scaling dict: v4 ``rope_scaling`` or v5 ``rope_parameters`` (empty for plain rope)."""
    return dict(cfg.get("rope_scaling") or cfg.get("rope_parameters") or {})


def rope_type(cfg: dict) -> str:
    """HF rope type name; ValueError naming it when the reference does not know it."""
    scaling = rope_scaling_dict(cfg)
    if not scaling:
        return "default"
    # HF configs copy a legacy "type" over "rope_type" (BC), then the rotary module reads rope_type.
    name = scaling.get("type", scaling.get("rope_type"))
    if name is None:
        raise ValueError(f"rope_scaling has neither 'rope_type' nor 'type': {scaling}")
    if name not in ROPE_TYPES:
        raise ValueError(f"unknown rope type {name!r} in rope_scaling; supported: {', '.join(ROPE_TYPES)}")
    return name


def rope_theta(cfg: dict) -> float:
    params = cfg.get("rope_parameters") or {}
    return float(params.get("rope_theta", cfg.get("rope_theta") or 10000.0))


def partial_rotary_factor(cfg: dict) -> float:
    params = cfg.get("rope_parameters") or {}
    value = cfg.get("partial_rotary_factor", params.get("partial_rotary_factor"))
    return 1.0 if value is None else value


def rotary_dim(cfg: dict) -> int:
    """Channels rotated per head: int(head_dim * partial_rotary_factor), like HF's rope init."""
    return int(cfg["head_dim"] * partial_rotary_factor(cfg))


def rope_depends_on_call(cfg: dict) -> bool:
    """True when the frequencies change with the positions of each call (dynamic, longrope)."""
    return rope_type(cfg) in CALL_DEPENDENT_ROPE_TYPES


def _require(scaling: dict, name: str, kind: str):
    if scaling.get(name) is None:
        raise ValueError(f"rope_scaling of type {kind!r} needs {name!r}: {scaling}")
    return scaling[name]


def _exponent(dim: int) -> torch.Tensor:
    # HF: torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim
    return torch.arange(0, dim, 2, dtype=torch.int64).to(dtype=torch.float) / dim


def default_inv_freq(base: float, dim: int) -> torch.Tensor:
    """1 / base ** (arange(0, dim, 2) / dim) in float32: the plain rope of HF and every remote code."""
    return 1.0 / (base ** _exponent(dim))


def longrope_original_max(cfg: dict) -> Tuple[int, Optional[float]]:
    """(original_max_position_embeddings, factor) as HF v4's _compute_longrope_parameters picks them."""
    scaling = rope_scaling_dict(cfg)
    original = cfg.get("original_max_position_embeddings")
    if original:
        return original, cfg["max_position_embeddings"] / original
    return cfg["max_position_embeddings"], scaling.get("factor")


class RopeParameters:
    """Everything a rotary embedding needs, computed at model construction like HF's rope init."""

    def __init__(self, cfg: dict):
        self.type = rope_type(cfg)
        scaling = rope_scaling_dict(cfg)
        base = rope_theta(cfg)
        dim = rotary_dim(cfg)
        if dim <= 0 or dim % 2:
            raise ValueError(f"rotary dimension {dim} (head_dim * partial_rotary_factor) must be even and > 0")
        self.base, self.dim = base, dim
        self.attention_scaling = 1.0
        self.long_inv_freq: Optional[torch.Tensor] = None
        self.switch_seq_len: Optional[int] = None  # seq_len above which dynamic/longrope change regime
        self.factor = None
        kind = self.type

        if kind == "default":
            self.inv_freq = default_inv_freq(base, dim)
        elif kind == "linear":
            inv_freq = default_inv_freq(base, dim)
            inv_freq /= _require(scaling, "factor", kind)
            self.inv_freq = inv_freq
        elif kind == "dynamic":
            factor = _require(scaling, "factor", kind)
            max_pos = cfg["max_position_embeddings"]
            seq_len = max_pos  # init time: seq_len None -> max_position_embeddings (Python numbers)
            init_base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (dim / (dim - 2))
            self.inv_freq = default_inv_freq(init_base, dim)
            self.factor, self.switch_seq_len = factor, max_pos
        elif kind == "yarn":
            self.inv_freq, self.attention_scaling = self._yarn(cfg, scaling, base, dim)
        elif kind == "longrope":
            long_factor = _require(scaling, "long_factor", kind)
            short_factor = _require(scaling, "short_factor", kind)
            for name, factors in (("long_factor", long_factor), ("short_factor", short_factor)):
                if len(factors) != dim // 2:
                    raise ValueError(f"rope_scaling {name} has {len(factors)} entries, rotary dim {dim} needs {dim // 2}")
            original, factor = longrope_original_max(cfg)
            attention_factor = scaling.get("attention_factor")
            if attention_factor is None:
                if factor is None:
                    raise ValueError("longrope needs rope_scaling 'factor' or 'attention_factor' when the config "
                                     "has no top-level original_max_position_embeddings")
                if factor <= 1.0:
                    attention_factor = 1.0
                else:
                    attention_factor = math.sqrt(1 + math.log(factor) / math.log(original))
            inv_freq_shape = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
            self.inv_freq = 1.0 / (torch.tensor(short_factor, dtype=torch.float32) * base ** inv_freq_shape)
            self.long_inv_freq = 1.0 / (torch.tensor(long_factor, dtype=torch.float32) * base ** inv_freq_shape)
            self.attention_scaling = attention_factor
            self.switch_seq_len = original
        elif kind == "llama3":
            self.inv_freq = self._llama3(scaling, default_inv_freq(base, dim))
        else:  # pragma: no cover - rope_type() rejects unknown names
            raise ValueError(f"unknown rope type {kind!r}")

    @staticmethod
    def _llama3(scaling: dict, inv_freq: torch.Tensor) -> torch.Tensor:
        factor = _require(scaling, "factor", "llama3")
        low_freq_factor = _require(scaling, "low_freq_factor", "llama3")
        high_freq_factor = _require(scaling, "high_freq_factor", "llama3")
        old_context_len = _require(scaling, "original_max_position_embeddings", "llama3")
        low_freq_wavelen = old_context_len / low_freq_factor
        high_freq_wavelen = old_context_len / high_freq_factor
        wavelen = 2 * math.pi / inv_freq
        inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
        smooth_factor = (old_context_len / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
        smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
        is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
        return torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)

    @staticmethod
    def _yarn(cfg: dict, scaling: dict, base: float, dim: int) -> Tuple[torch.Tensor, float]:
        factor = _require(scaling, "factor", "yarn")
        attention_factor = scaling.get("attention_factor")
        mscale = scaling.get("mscale")
        mscale_all_dim = scaling.get("mscale_all_dim")
        original_max_position_embeddings = (
            scaling.get("original_max_position_embeddings") or cfg["max_position_embeddings"]
        )
        if attention_factor is None:
            if mscale and mscale_all_dim:
                attention_factor = float(yarn_get_mscale(factor, mscale) / yarn_get_mscale(factor, mscale_all_dim))
            else:
                attention_factor = yarn_get_mscale(factor)
        beta_fast = scaling.get("beta_fast") or 32
        beta_slow = scaling.get("beta_slow") or 1
        truncate = scaling.get("truncate", True)
        low, high = yarn_find_correction_range(beta_fast, beta_slow, dim, base, original_max_position_embeddings,
                                               truncate)
        return yarn_inv_freq(base, dim, factor, low, high), attention_factor

    @classmethod
    def precomputed(cls, inv_freq: torch.Tensor, attention_scaling: float) -> "RopeParameters":
        """Static tables a family computes itself (DeepSeek's remote yarn): no per-call switch."""
        params = cls.__new__(cls)
        params.type = "precomputed"  # static like default / linear / yarn / llama3: not in ROPE_TYPES
        params.base = params.factor = params.long_inv_freq = params.switch_seq_len = None
        params.dim = 2 * inv_freq.shape[0]
        params.inv_freq = inv_freq
        params.attention_scaling = attention_scaling
        return params


# YaRN pieces, as HF's _compute_yarn_parameters and DeepSeek's remote code both define them.


def yarn_get_mscale(scale, mscale=1):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def yarn_find_correction_dim(num_rotations, dim, base, max_position_embeddings):
    return (dim * math.log(max_position_embeddings / (num_rotations * 2 * math.pi))) / (2 * math.log(base))


def yarn_find_correction_range(low_rot, high_rot, dim, base, max_position_embeddings, truncate=True):
    low = yarn_find_correction_dim(low_rot, dim, base, max_position_embeddings)
    high = yarn_find_correction_dim(high_rot, dim, base, max_position_embeddings)
    if truncate:
        low = math.floor(low)
        high = math.ceil(high)
    return max(low, 0), min(high, dim - 1)


def yarn_linear_ramp(min, max, dim):  # noqa: A002 - HF's names
    if min == max:
        max += 0.001  # Prevent singularity
    linear_func = (torch.arange(dim, dtype=torch.float32) - min) / (max - min)
    return torch.clamp(linear_func, 0, 1)


def yarn_inv_freq(base, dim: int, factor, low, high) -> torch.Tensor:
    """inv_freq blended between interpolation (inv_freq / factor) and extrapolation by the ramp."""
    pos_freqs = base ** (torch.arange(0, dim, 2).to(dtype=torch.float) / dim)
    inv_freq_extrapolation = 1.0 / pos_freqs
    inv_freq_interpolation = 1.0 / (factor * pos_freqs)
    inv_freq_extrapolation_factor = 1 - yarn_linear_ramp(low, high, dim // 2).to(dtype=torch.float)
    return (
        inv_freq_interpolation * (1 - inv_freq_extrapolation_factor)
        + inv_freq_extrapolation * inv_freq_extrapolation_factor
    )


def init_inv_freq(cfg: dict) -> torch.Tensor:
    """The inv_freq HF's rope init computes at model construction (dynamic: seq_len = max_pos;
    longrope: the short factors)."""
    return RopeParameters(cfg).inv_freq


class Float32Buffers(nn.Module):
    """A module whose buffers (``float32_buffers``; None = all) stay float32 under model.to(dtype):
    HF and the remote codes keep their rotary tables float32 whatever the model dtype."""

    float32_buffers: Optional[Tuple[str, ...]] = None

    def _apply(self, fn, *args, **kwargs):
        names = self._buffers if self.float32_buffers is None else self.float32_buffers
        saved = {name: self._buffers[name] for name in names if self._buffers.get(name) is not None}
        super()._apply(fn, *args, **kwargs)
        for name, buf in saved.items():
            self._buffers[name] = buf.to(device=self._buffers[name].device)
        return self


class ScaledRotaryEmbedding(Float32Buffers):
    """cos/sin tables [T, rotary_dim] from positions, for every HF rope type (float32, cast to dtype).

    Buffers (non-persistent, always float32): ``inv_freq`` (the init-time frequencies), plus
    ``long_inv_freq`` for longrope and ``inv_freq_exponent`` (arange(0, dim, 2) / dim) for dynamic.
    """

    def __init__(self, params: RopeParameters):
        super().__init__()
        self.rope_type = params.type
        self.rotary_dim = params.dim
        self.attention_scaling = float(params.attention_scaling)
        self.switch_seq_len = params.switch_seq_len
        self.base = params.base
        self.factor = params.factor
        self.register_buffer("inv_freq", params.inv_freq.to(torch.float32), persistent=False)
        if params.long_inv_freq is not None:
            self.register_buffer("long_inv_freq", params.long_inv_freq.to(torch.float32), persistent=False)
        if self.rope_type == "dynamic":
            self.register_buffer("inv_freq_exponent", _exponent(params.dim), persistent=False)

    def call_inv_freq(self, positions: torch.Tensor) -> torch.Tensor:
        """The inverse frequencies used for a forward call over ``positions``."""
        if self.rope_type == "dynamic":
            seq_len = positions.max() + 1  # HF: torch.max(position_ids) + 1, an int64 0-dim tensor
            max_pos = self.switch_seq_len
            grown_len = seq_len.clamp(min=max_pos)  # HF: torch.maximum(seq_len, tensor(max_pos))
            base = self.base * ((self.factor * grown_len / max_pos) - (self.factor - 1)) ** (
                self.rotary_dim / (self.rotary_dim - 2))
            grown = 1.0 / (base ** self.inv_freq_exponent)
            return torch.where(seq_len > max_pos, grown, self.inv_freq)
        if self.rope_type == "longrope":
            seq_len = positions.max() + 1
            return torch.where(seq_len > self.switch_seq_len, self.long_inv_freq, self.inv_freq)
        return self.inv_freq

    def forward(self, positions: torch.Tensor, dtype: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
        freqs = positions.to(torch.float32)[:, None] * self.call_inv_freq(positions)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        if self.attention_scaling != 1.0:
            cos = cos * self.attention_scaling
            sin = sin * self.attention_scaling
        return cos.to(dtype), sin.to(dtype)


def build_rotary_embedding(cfg: dict, allow_partial: bool = False) -> ScaledRotaryEmbedding:
    """The rotary module of a model; ``allow_partial`` only for models whose HF code slices q/k."""
    if not allow_partial and partial_rotary_factor(cfg) != 1.0:
        raise ValueError(
            f"partial_rotary_factor={partial_rotary_factor(cfg)} is not supported by HF's "
            f"{cfg['architectures'][0]} (its apply_rotary_pos_emb rotates the whole head_dim)"
        )
    return ScaledRotaryEmbedding(RopeParameters(cfg))


def rotate_half(x: torch.Tensor, half: int) -> torch.Tensor:
    """Neox-style rotation over the last dimension split at the static ``half``: (x1, x2) -> (-x2, x1)."""
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, half: int) -> torch.Tensor:
    """Rotate x [T, heads, D] with cos/sin [T, D] (HF apply_rotary_pos_emb, in the model dtype)."""
    cos = cos[:, None, :]
    sin = sin[:, None, :]
    return (x * cos) + (rotate_half(x, half) * sin)


def apply_partial_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, rotary_dim: int,
                         head_dim: int) -> torch.Tensor:
    """HF Phi3 apply_rotary_pos_emb on x [T, heads, head_dim]: rotate x[..., :rotary_dim], pass the rest.

    With rotary_dim == head_dim this is the plain Llama rotation (no slicing/concatenation is emitted).
    """
    if rotary_dim == head_dim:
        return apply_rotary(x, cos, sin, rotary_dim // 2)
    cos = cos[:, None, :]
    sin = sin[:, None, :]
    x_rot, x_pass = x[..., :rotary_dim], x[..., rotary_dim:]
    return torch.cat([(x_rot * cos) + (rotate_half(x_rot, rotary_dim // 2) * sin), x_pass], dim=-1)
