"""HF-exact reference of GPT2LMHeadModel (transformers ``models/gpt2/modeling_gpt2.py``), flat-sequence API.

Followed: transformers ``modeling_gpt2.py`` GPT2Attention._attn / _upcast_and_reordered_attn, GPT2MLP,
GPT2Block, GPT2Model, GPT2LMHeadModel (v4.2x-v4.4x; v4.48+ moved ``_attn`` into
``eager_attention_forward`` with the same arithmetic), ``pytorch_utils.Conv1D``,
``activations.NewGELUActivation`` and ``configuration_gpt2.GPT2Config``.

Config fields read (GPT2Config defaults): vocab_size 50257, n_positions 1024, n_embd 768, n_layer 12,
n_head 12, n_inner None (-> 4 * n_embd), activation_function "gelu_new", layer_norm_epsilon 1e-5,
scale_attn_weights True, scale_attn_by_inverse_layer_idx False, reorder_and_upcast_attn False,
tie_word_embeddings True, add_cross_attention False (True rejected). HF's attribute_map aliases
hidden_size / num_hidden_layers / num_attention_heads / max_position_embeddings are accepted as input
and derived (with num_key_value_heads = n_head, head_dim = n_embd / n_head, intermediate_size) for the
generic code; they are not written to config.json. Dropouts are inference no-ops.

Checkpoint layout (E = n_embd, I = n_inner or 4E, P = n_positions):
    transformer.wte.weight                 [vocab, E]   (lm_head.weight is tied to it: not saved)
    transformer.wpe.weight                 [P, E]       learned positions, row = position (no offset)
    transformer.h.{i}.ln_1.weight / .bias  [E]
    transformer.h.{i}.attn.c_attn.weight   [E, 3E]  Conv1D: stored [in, out], y = x @ W + b;
                                                    columns [0, E) q, [E, 2E) k, [2E, 3E) v,
                                                    head h = columns h*D .. h*D + D - 1 of each
    transformer.h.{i}.attn.c_attn.bias     [3E]
    transformer.h.{i}.attn.c_proj.weight   [E, E]   Conv1D [in, out]
    transformer.h.{i}.attn.c_proj.bias     [E]
    transformer.h.{i}.ln_2.weight / .bias  [E]
    transformer.h.{i}.mlp.c_fc.weight      [E, I]   Conv1D [in, out]
    transformer.h.{i}.mlp.c_fc.bias        [I]
    transformer.h.{i}.mlp.c_proj.weight    [I, E]   Conv1D [in, out]
    transformer.h.{i}.mlp.c_proj.bias      [E]
    transformer.ln_f.weight / .bias        [E]
  (an nn.Linear-style builder uses W^T.) The original openai-community/gpt2 files name the tensors
  without the ``transformer.`` prefix (base-model checkpoint) and carry ``h.{i}.attn.bias``
  ([1, 1, P, P] causal mask) and in old files ``h.{i}.attn.masked_bias``: buffers HF ignores on load
  (non-persistent since v4.31). ``load_weights`` accepts both spellings and drops those buffers.

Numerics (model dtype = parameter dtype):
  * h = wte(ids) + wpe(positions) (model dtype); LayerNorm (eps = layer_norm_epsilon) in the model dtype.
  * Conv1D: torch.addmm(bias, x, W).
  * attention (default): w = matmul(q, k^T); if scale_attn_weights: w = w / torch.full([], D ** 0.5,
    dtype) (a division by sqrt(D) rounded to the model dtype); if scale_attn_by_inverse_layer_idx:
    w = w / float(layer_idx + 1); masked entries -> finfo(dtype).min (torch.where); softmax IN THE
    MODEL DTYPE (no f32 upcast); .type(v.dtype); matmul with v; c_proj.
    reorder_and_upcast_attn: w = baddbmm(f32, q.float(), k^T.float(), beta=0, alpha=scale) with
    scale = 1/sqrt(D) (if scale_attn_weights) / (layer_idx + 1) (if by inverse layer idx); mask with
    finfo(f32).min; softmax in f32; cast to v's dtype.
  * MLP: c_proj(act(c_fc(x))); gelu_new(x) = 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 *
    pow(x, 3)))) written exactly so (not F.gelu(approximate="tanh"), which rounds differently).
  * block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)). Final ln_f; logits = lm_head (tied to wte)
    in the model dtype, then .float().
"""

import math
from typing import Iterable, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import models, tiny
from .eager_attention import causal_mask, config_alias_check
from .models import CausalLM, _cached_keys_values, layer_caches

_GPT2_DEFAULTS = {  # configuration_gpt2.GPT2Config (+ PretrainedConfig's tie_word_embeddings)
    "model_type": "gpt2",
    "vocab_size": 50257,
    "n_positions": 1024,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "n_inner": None,
    "activation_function": "gelu_new",
    "resid_pdrop": 0.1,
    "embd_pdrop": 0.1,
    "attn_pdrop": 0.1,
    "layer_norm_epsilon": 1e-5,
    "initializer_range": 0.02,
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "summary_activation": None,
    "summary_proj_to_labels": True,
    "summary_first_dropout": 0.1,
    "scale_attn_weights": True,
    "use_cache": True,
    "bos_token_id": 50256,
    "eos_token_id": 50256,
    "scale_attn_by_inverse_layer_idx": False,
    "reorder_and_upcast_attn": False,
    "tie_word_embeddings": True,
    "add_cross_attention": False,
}

# GPT2Config.attribute_map
_ATTRIBUTE_MAP = (
    ("hidden_size", "n_embd"),
    ("max_position_embeddings", "n_positions"),
    ("num_attention_heads", "n_head"),
    ("num_hidden_layers", "n_layer"),
)


class NewGELUActivation(nn.Module):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return 0.5 * input * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (input + 0.044715 * torch.pow(input, 3.0))))


def _activation(name: str) -> nn.Module:
    if name == "gelu_new":
        return NewGELUActivation()
    table = {"gelu": "gelu", "relu": "relu", "silu": "silu", "swish": "silu", "gelu_pytorch_tanh": "gelu_pytorch_tanh"}
    if name not in table:
        raise NotImplementedError(f"GPT-2 activation_function {name!r} is not supported; "
                                  f"supported: gelu_new, {', '.join(table)}")
    return models.Activation(table[name])


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: weight [nx (in), nf (out)], y = addmm(bias, x, weight)."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x, self.weight)  # x is already [T, nx]


class GPT2Attention(nn.Module):
    """Not eager_attention's: a division by sqrt(D) rounded to the model dtype, softmax in the model dtype
    (or the f32 reorder_and_upcast_attn path)."""

    def __init__(self, cfg: dict, layer_idx: int):
        super().__init__()
        self.embed_dim = cfg["n_embd"]
        self.num_heads = cfg["n_head"]
        self.head_dim = self.embed_dim // self.num_heads
        self.split_size = self.embed_dim
        self.scale_attn_weights = bool(cfg["scale_attn_weights"])
        self.scale_attn_by_inverse_layer_idx = bool(cfg["scale_attn_by_inverse_layer_idx"])
        self.reorder_and_upcast_attn = bool(cfg["reorder_and_upcast_attn"])
        self.layer_idx = layer_idx
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)

    def _attn(self, q, k, v, masked):
        """q: [H, T, D], k: [H, D, S] (already transposed), v: [H, S, D]."""
        w = torch.matmul(q, k)
        if self.scale_attn_weights:
            w = w / torch.full([], self.head_dim ** 0.5, dtype=w.dtype, device=w.device)
        if self.scale_attn_by_inverse_layer_idx:
            w = w / float(self.layer_idx + 1)
        mask_value = torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype, device=w.device)
        w = torch.where(masked, mask_value, w)  # HF: where(causal_mask, w, mask_value)
        w = F.softmax(w, dim=-1)
        w = w.type(v.dtype)
        return torch.matmul(w, v)

    def _upcast_and_reordered_attn(self, q, k, v, masked):
        scale_factor = 1.0
        if self.scale_attn_weights:
            scale_factor /= float(self.head_dim) ** 0.5
        if self.scale_attn_by_inverse_layer_idx:
            scale_factor /= float(self.layer_idx + 1)
        # Original: torch.baddbmm(torch.empty(f32), q.float(), k.float(), beta=0, alpha=scale_factor); the
        # same f32 values (torch 1.13's CPU baddbmm may read its uninitialized output when beta=0).
        w = torch.matmul(q.float(), k.float()) * scale_factor
        mask_value = torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype, device=w.device)
        w = torch.where(masked, mask_value, w)  # HF: where(causal_mask, w, mask_value)
        w = F.softmax(w, dim=-1)
        w = w.type(v.dtype)
        return torch.matmul(w, v)

    def forward(self, x, positions, k_cache=None, v_cache=None):
        q, k, v = self.c_attn(x).split(self.split_size, dim=1)
        q = q.view(-1, self.num_heads, self.head_dim)
        k = k.view(-1, self.num_heads, self.head_dim)
        v = v.view(-1, self.num_heads, self.head_dim)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        masked = causal_mask(positions, k_positions)  # [T, S]; HF: ~bias[.., :key_length]
        q, k, v = q.transpose(0, 1), k.permute(1, 2, 0), v.transpose(0, 1)
        if self.reorder_and_upcast_attn:
            out = self._upcast_and_reordered_attn(q, k, v, masked)
        else:
            out = self._attn(q, k, v, masked)
        out = out.transpose(0, 1).reshape(-1, self.embed_dim)  # _merge_heads
        return self.c_proj(out)


class GPT2MLP(nn.Module):
    def __init__(self, intermediate_size: int, cfg: dict):
        super().__init__()
        self.c_fc = Conv1D(intermediate_size, cfg["n_embd"])
        self.c_proj = Conv1D(cfg["n_embd"], intermediate_size)
        self.act = _activation(cfg["activation_function"])

    def forward(self, x):
        return self.c_proj(self.act(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg: dict, layer_idx: int):
        super().__init__()
        hidden = cfg["n_embd"]
        inner_dim = cfg["n_inner"] if cfg["n_inner"] is not None else 4 * hidden
        self.ln_1 = nn.LayerNorm(hidden, eps=cfg["layer_norm_epsilon"])
        self.attn = GPT2Attention(cfg, layer_idx)
        self.ln_2 = nn.LayerNorm(hidden, eps=cfg["layer_norm_epsilon"])
        self.mlp = GPT2MLP(inner_dim, cfg)

    def forward(self, h, positions, k_cache=None, v_cache=None):
        residual = h
        h = self.attn(self.ln_1(h), positions, k_cache, v_cache) + residual
        residual = h
        return residual + self.mlp(self.ln_2(h))


class GPT2Model(nn.Module):
    """``transformer``: wte, wpe, h, ln_f."""

    def __init__(self, cfg: dict):
        super().__init__()
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        self.h = nn.ModuleList([GPT2Block(cfg, i) for i in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.wte(input_ids) + self.wpe(positions)
        for block, layer_k, layer_v in layer_caches(self.h, k_cache, v_cache):
            h = block(h, positions, layer_k, layer_v)
        return self.ln_f(h)


class GPT2LMHeadModel(CausalLM):
    architecture = "GPT2LMHeadModel"
    base_model_prefix = "transformer"
    tied_embedding_name = "transformer.wte.weight"
    learned_positions = True
    config_aliases = tuple(alias for alias, _ in _ATTRIBUTE_MAP) + ("num_key_value_heads", "head_dim",
                                                                    "intermediate_size")
    final_norm_names = ("transformer.ln_f",)

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.transformer = GPT2Model(self.config)
        self._finish(self.transformer.wte, self.config["n_embd"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        config_alias_check(cfg, _ATTRIBUTE_MAP, "GPT-2")
        if cfg.get("add_cross_attention"):
            raise NotImplementedError("GPT-2 add_cross_attention (encoder-decoder use) is not supported")
        if cfg["n_embd"] % cfg["n_head"]:
            raise ValueError("GPT-2 n_embd must be divisible by n_head")
        _activation(cfg["activation_function"])  # reject unsupported activations early
        head_dim = cfg["n_embd"] // cfg["n_head"]
        inner = cfg["n_inner"] if cfg["n_inner"] is not None else 4 * cfg["n_embd"]
        derived = (("num_key_value_heads", cfg["n_head"]), ("head_dim", head_dim), ("intermediate_size", inner))
        for key, value in derived:
            if cfg.get(key) not in (None, value):
                raise ValueError(f"GPT-2 has no {key} field; it is {value} for this config, not {cfg[key]}")
            cfg[key] = value
        for alias, key in _ATTRIBUTE_MAP:
            cfg[alias] = cfg[key]
        return cfg

    @staticmethod
    def ignored_checkpoint_tensor(name: str) -> bool:
        """Buffers of GPT-2 checkpoints that HF drops on load: h.N.attn.bias (the [1, 1, P, P] causal
        mask) and h.N.attn.masked_bias (-1e4), with or without the ``transformer.`` prefix."""
        return name.endswith((".attn.bias", ".attn.masked_bias"))

    def init_parameter(self, name, module, leaf, param, normal) -> Optional[torch.Tensor]:
        if isinstance(module, Conv1D):  # weight [in, out]
            return normal(param.shape, 0.05) if leaf == "bias" else normal(param.shape, param.shape[0] ** -0.5)
        return None


models.register_architecture(GPT2LMHeadModel, _GPT2_DEFAULTS)


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    """Generic size overrides (hidden_size, ...) onto GPT-2's own field names."""
    for alias, key in _ATTRIBUTE_MAP + (("intermediate_size", "n_inner"),):
        if alias in config:
            config[key] = config.pop(alias)
    config.pop("num_key_value_heads", None)  # no GQA: like OPT, --kv-heads is ignored
    tiny.drop_derived_head_dim(config, "GPT-2", "n_embd", "n_head")
    tiny.reject_overrides(size_overrides, ("sliding_window", "rope_theta"), "GPT-2", " (learned absolute positions)")


tiny.register_tiny_preset(
    "GPT2LMHeadModel",
    {
        "vocab_size": 250,
        "n_embd": 64,
        "n_layer": 2,
        "n_head": 4,
        "n_inner": 128,
        "n_positions": 128,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": 1e-5,
        "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False,
        "reorder_and_upcast_attn": False,
        "tie_word_embeddings": True,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    adjust=_tiny_adjust,
)
