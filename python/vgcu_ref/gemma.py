"""HF-exact references of GemmaForCausalLM and Gemma2ForCausalLM (flat-sequence API of models.py).

Followed: transformers ``models/gemma/modeling_gemma.py`` (commit 0125ac68, v4.45 dev),
``models/gemma2/modeling_gemma2.py`` (commit 006e8693, v4.45 dev; the v4.5x code computes the same
thing with ``layer_types`` and the generic rotary module) and the config classes (v4 defaults).

Numerics (model dtype = the parameters' dtype; "f32" = float32):
  * embedding:  h = embed_tokens(ids) * torch.tensor(hidden_size ** 0.5, dtype=h.dtype), i.e. the
    normalizer is ROUNDED TO THE MODEL DTYPE first (bf16: sqrt(3072) = 55.4256 -> 55.5) and the
    multiply happens in the model dtype.
  * GemmaRMSNorm (weights are offsets, HF initializes them to 0):
        x32 = x.float(); y = x32 * rsqrt(mean(x32 ** 2, -1) + eps); y = y * (1.0 + w.float())
        return y.to(x.dtype)
    i.e. the (1 + w) scale is applied in f32 BEFORE the single rounding back (Llama rounds first,
    then multiplies by w in the model dtype).
  * rotary: the shared HF rotary (rope.py; every rope_scaling type), full head_dim rotation.
  * MLP: down(act(gate(x)) * up(x)); act = GELU tanh approximation for the released models.
    Gemma 1: ``hidden_activation`` if set, else gelu_pytorch_tanh and ``hidden_act`` is IGNORED
    (HF v4.38 - v4.45 GemmaMLP with the PR 29402 warning; Gemma 1 checkpoints carry the legacy
    ``hidden_act: "gelu"``). Later HF versions read ``hidden_act`` instead; the tiny preset sets both
    to agree. Gemma 2: ``hidden_activation`` (default gelu_pytorch_tanh).
  * attention scores: q.k * scaling in the model dtype with scaling = head_dim ** -0.5 (Gemma; HF
    <= v4.47 writes 1 / math.sqrt(head_dim), the same float32 number) or query_pre_attn_scalar ** -0.5
    (Gemma 2). Gemma 2 then soft-caps in the model dtype: s = tanh(s / attn_logit_softcapping) *
    attn_logit_softcapping, BEFORE the mask; softmax in f32, cast back.
  * Gemma 2 layer: h = h + post_attention_layernorm(attn(input_layernorm(h)));
                   h = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h))).
  * Gemma 2 windows: layer_types (default: "sliding_attention" on even layers 0, 2, ..., full on odd
    ones); sliding layers hide key j from query i when pos_i - pos_j >= sliding_window.
  * logits: lm_head (tied to embed_tokens by default) in the model dtype; Gemma 2 then soft-caps them
    in the model dtype (logits / final_logit_softcapping, tanh, * final_logit_softcapping); the
    reference finally upcasts to f32.
"""

import math
from typing import Iterable, Optional, Union

import torch
from torch import nn

from . import models, tiny
from .eager_attention import soft_cap
from .models import Attention, CausalLM, DecoderLayer, DecoderModel, GatedMLP, resolve_heads

_GEMMA_DEFAULTS = {
    "model_type": "gemma",
    "vocab_size": 256000,
    "hidden_size": 3072,
    "intermediate_size": 24576,
    "num_hidden_layers": 28,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "head_dim": 256,
    "hidden_act": "gelu_pytorch_tanh",
    "hidden_activation": None,
    "max_position_embeddings": 8192,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "bos_token_id": 2,
    "tie_word_embeddings": True,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "attention_bias": False,
    "attention_dropout": 0.0,
}

_GEMMA2_DEFAULTS = {  # Gemma2Config: no hidden_act field
    **{key: value for key, value in _GEMMA_DEFAULTS.items() if key != "hidden_act"},
    "model_type": "gemma2",
    "hidden_size": 2304,
    "intermediate_size": 9216,
    "num_hidden_layers": 26,
    "num_attention_heads": 8,
    "num_key_value_heads": 4,
    "hidden_activation": "gelu_pytorch_tanh",
    "query_pre_attn_scalar": 256,
    "sliding_window": 4096,
    "layer_types": None,
    "final_logit_softcapping": 30.0,
    "attn_logit_softcapping": 50.0,
    "cache_implementation": "hybrid",
}


def gemma_activation(cfg: dict) -> str:
    """The MLP activation HF uses (see the module docstring for the Gemma 1 legacy rule)."""
    if cfg["architectures"][0] == "GemmaForCausalLM":
        return cfg.get("hidden_activation") or "gelu_pytorch_tanh"
    return cfg.get("hidden_activation") or cfg.get("hidden_act") or "gelu_pytorch_tanh"


class GemmaRMSNorm(nn.Module):
    """HF GemmaRMSNorm: y = norm(x.float()) * (1 + w.float()), cast back once at the end.

    Not models.RMSNorm: Llama's rounds to the model dtype BEFORE its weight multiply, Gemma's after.
    """

    def __init__(self, dim: int, eps: float, variant: frozenset = frozenset()):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))
        self.sqrt_div = "sqrt_div" in variant
        self.mul_square = "mul_square" in variant
        self.weight_first = "weight_first" in variant  # (1 + w) * y instead of HF's y * (1 + w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.float()
        square = h * h if self.mul_square else h.pow(2)
        variance = square.mean(-1, keepdim=True)
        if self.sqrt_div:
            h = h / torch.sqrt(variance + self.eps)
        else:
            h = h * torch.rsqrt(variance + self.eps)
        scale = 1.0 + self.weight.float()
        out = scale * h if self.weight_first else h * scale
        return out.type_as(x)


class Gemma2Attention(Attention):
    """Gemma 2 attention: query_pre_attn_scalar ** -0.5 scaling, tanh soft-capping of the scores."""

    def __init__(self, cfg: dict, sliding_window: Optional[int], variant: frozenset):
        bias = bool(cfg["attention_bias"])
        super().__init__(cfg, qkv_bias=bias, o_bias=bias, qk_norm=False, sliding_window=sliding_window,
                         variant=variant)
        self.scaling = cfg["query_pre_attn_scalar"] ** -0.5
        self.softcap = cfg.get("attn_logit_softcapping")


class GemmaDecoderLayer(DecoderLayer):
    """Gemma (sandwich=False: Llama's layer with Gemma norms) or Gemma 2 (sandwich=True: post-attention
    and pre/post-feed-forward norms)."""

    def __init__(self, cfg: dict, attention: Attention, mlp: GatedMLP, variant: frozenset, sandwich: bool):
        super().__init__(cfg, attention, mlp, variant, norm_class=GemmaRMSNorm)
        self.sandwich = sandwich
        if sandwich:
            dim, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
            self.pre_feedforward_layernorm = GemmaRMSNorm(dim, eps, variant)
            self.post_feedforward_layernorm = GemmaRMSNorm(dim, eps, variant)

    def forward(self, h, cos, sin, positions, k_cache=None, v_cache=None):
        if not self.sandwich:
            return super().forward(h, cos, sin, positions, k_cache, v_cache)
        residual = h
        h = self.self_attn(self.input_layernorm(h), cos, sin, positions, k_cache, v_cache)
        h = self.post_attention_layernorm(h)
        h = residual + h
        residual = h
        h = self.post_feedforward_layernorm(self.mlp(self.pre_feedforward_layernorm(h)))
        return residual + h


class GemmaModel(DecoderModel):
    """``model``: embed_tokens (scaled by sqrt(hidden_size) in the model dtype), layers, norm, rotary."""

    def __init__(self, cfg: dict, layers, variant: frozenset):
        super().__init__(cfg, layers, variant, norm_class=GemmaRMSNorm)
        self.hidden_size = cfg["hidden_size"]

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        h = self.embed_tokens(input_ids)
        normalizer = torch.tensor(self.hidden_size ** 0.5, dtype=h.dtype)
        return h * normalizer


class _GemmaBase(CausalLM):
    final_norm_names = ("model.norm",)
    sandwich = False

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        windows = models.layer_sliding_windows(cfg)
        act = gemma_activation(cfg)
        layers = [
            GemmaDecoderLayer(cfg, self._attention(cfg, windows[i]),
                              GatedMLP(cfg["hidden_size"], cfg["intermediate_size"], act, self.variant),
                              self.variant, self.sandwich)
            for i in range(cfg["num_hidden_layers"])
        ]
        self.model = GemmaModel(cfg, layers, self.variant)
        self._finish(self.model.embed_tokens, cfg["hidden_size"])

    def _attention(self, cfg, window):
        bias = bool(cfg["attention_bias"])
        return Attention(cfg, qkv_bias=bias, o_bias=bias, qk_norm=False, sliding_window=window, variant=self.variant)

    def init_parameter(self, name, module, leaf, param, normal):
        """Rules for tiny.init_random_weights (None = its default rule).

        Gemma norm weights are offsets around 0: N(0, 0.1^2); the final norm's effective scale 1 + w
        additionally gets a random sign (see tiny.init_random_weights). The sqrt(hidden) embedding
        scale makes the residual stream's RMS r = embedding std * sqrt(hidden) (LOGIT_STD when tied),
        so the layers' contributions are brought to that scale, or greedy decoding of the tiny models
        only cycles between two tokens: Gemma's o_proj/down_proj ~ N(0, r^2 / fan_in), Gemma 2's
        post-attention/post-feed-forward norm weights ~ N(r - 1, 0.1^2) (their outputs are normalized).
        """
        hidden = self.config["hidden_size"]
        embed_std = tiny.LOGIT_STD / math.sqrt(hidden) if self.tie_word_embeddings else 1.0
        residual_rms = embed_std * math.sqrt(hidden)
        module_name = name.rpartition(".")[0]
        if isinstance(module, nn.Linear) and not self.sandwich and leaf == "weight" \
                and module_name.rpartition(".")[2] in ("o_proj", "down_proj"):
            return normal(param.shape, residual_rms / math.sqrt(param.shape[1]))
        if not isinstance(module, GemmaRMSNorm):
            return None
        if self.sandwich and module_name.rpartition(".")[2] in ("post_attention_layernorm",
                                                                 "post_feedforward_layernorm"):
            return normal(param.shape, 0.1, residual_rms - 1.0)
        value = normal(param.shape, 0.1)
        if module_name in self.final_norm_names:
            sign = torch.where(normal(param.shape, 1.0) < 0, -1.0, 1.0)
            value = sign * (1.0 + value) - 1.0
        return value


class GemmaForCausalLM(_GemmaBase):
    """HF GemmaForCausalLM: (1 + w) RMSNorm, sqrt(hidden) embedding scale, GELU-tanh MLP, tied head."""

    architecture = "GemmaForCausalLM"

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        return resolve_heads(cfg)

    @staticmethod
    def family_sliding_windows(cfg: dict):
        return [None] * cfg["num_hidden_layers"]


class Gemma2ForCausalLM(_GemmaBase):
    """HF Gemma2ForCausalLM: sandwich norms, soft-capping, query_pre_attn_scalar, alternating windows."""

    architecture = "Gemma2ForCausalLM"
    sandwich = True

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        cfg = resolve_heads(cfg)
        if cfg.get("layer_types") is not None and len(cfg["layer_types"]) != cfg["num_hidden_layers"]:
            raise ValueError(f"layer_types has {len(cfg['layer_types'])} entries for {cfg['num_hidden_layers']} layers")
        return cfg

    @staticmethod
    def family_sliding_windows(cfg: dict):
        layer_types = cfg.get("layer_types") or [
            "sliding_attention" if bool((i + 1) % 2) else "full_attention" for i in range(cfg["num_hidden_layers"])
        ]
        window = cfg.get("sliding_window")
        return [window if t == "sliding_attention" else None for t in layer_types]

    def _attention(self, cfg, window):
        return Gemma2Attention(cfg, window, self.variant)

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.lm_head(hidden)
        cap = self.config.get("final_logit_softcapping")
        if cap is not None:
            logits = soft_cap(logits, cap)
        return logits.float()


models.register_architecture(GemmaForCausalLM, _GEMMA_DEFAULTS)
models.register_architecture(Gemma2ForCausalLM, _GEMMA2_DEFAULTS)


def _tiny_head_dim(config: dict, size_overrides: dict) -> None:
    # Like real Gemma models, head_dim != hidden_size / num_attention_heads (twice it, as for Qwen3).
    if "head_dim" not in size_overrides:
        config["head_dim"] = 2 * (config["hidden_size"] // config["num_attention_heads"])


_TINY_GEMMA = {
    **tiny.TINY_ROPE,
    "head_dim": 32,  # != 64 / 4
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "tie_word_embeddings": True,
    "attention_bias": False,
    "bos_token_id": 2,
    "eos_token_id": 1,
    "pad_token_id": 0,
}

tiny.register_tiny_preset(
    "GemmaForCausalLM",
    {**_TINY_GEMMA, "hidden_act": "gelu", "hidden_activation": "gelu_pytorch_tanh"},  # Gemma 1 legacy pair
    bench_overrides={"head_dim": 64},
    adjust=_tiny_head_dim,
)
tiny.register_tiny_preset(
    "Gemma2ForCausalLM",
    {
        **_TINY_GEMMA,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_activation": "gelu_pytorch_tanh",
        "query_pre_attn_scalar": 24,  # != head_dim, so scaling by head_dim would be caught
        "sliding_window": 8,  # layer 0 slides, layer 1 is global
        "attn_logit_softcapping": 5.0,  # small caps so both soft-cappings change the results
        "final_logit_softcapping": 15.0,
        "cache_implementation": "hybrid",
    },
    bench_overrides={"head_dim": 64, "query_pre_attn_scalar": 64, "sliding_window": 1024,
                     "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0},
    adjust=_tiny_head_dim,
)
