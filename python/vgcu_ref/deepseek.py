"""DeepSeek-V2 / V3 references: multi-head latent attention (MLA) and DeepSeekMoE.

Follows DeepSeek's remote code (``modeling_deepseek.py`` of deepseek-ai/DeepSeek-V2(-Lite) and
DeepSeek-V3) in eager mode, on one flattened sequence (interface of ``models``). Checkpoint names:

    model.layers.N.self_attn.q_proj.weight              [H*(nope+rope), hidden]   (q_lora_rank null)
    model.layers.N.self_attn.q_a_proj.weight            [q_lora_rank, hidden]     (q_lora_rank set)
    model.layers.N.self_attn.q_a_layernorm.weight       [q_lora_rank]
    model.layers.N.self_attn.q_b_proj.weight            [H*(nope+rope), q_lora_rank]
    model.layers.N.self_attn.kv_a_proj_with_mqa.weight  [kv_lora_rank + rope, hidden]
    model.layers.N.self_attn.kv_a_layernorm.weight      [kv_lora_rank]
    model.layers.N.self_attn.kv_b_proj.weight           [H*(nope+v), kv_lora_rank]
    model.layers.N.self_attn.o_proj.weight              [hidden, H*v]
    model.layers.N.mlp.{gate,up,down}_proj.weight       dense layers (intermediate_size)
    model.layers.N.mlp.gate.weight                      [n_routed_experts, hidden]
    model.layers.N.mlp.gate.e_score_correction_bias     [n_routed_experts]        (topk_method noaux_tc)
    model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight      (moe_intermediate_size)
    model.layers.N.mlp.shared_experts.{gate,up,down}_proj.weight (moe_intermediate_size * n_shared_experts)
(attention_bias adds biases to q_a_proj, kv_a_proj_with_mqa and o_proj.)

MLA (DeepseekV2Attention.forward), x: [T, hidden]:
    q = q_proj(x)  or  q_b_proj(q_a_layernorm(q_a_proj(x)))       -> [T, H, nope+rope]; q_nope | q_pe
    c, k_pe = split(kv_a_proj_with_mqa(x), [kv_lora_rank, rope])
    c = kv_a_layernorm(c)                                         # eps 1e-6 (not rms_norm_eps), [T, kv_lora_rank]
    k_nope | v = kv_b_proj(c).view(T, H, nope + v_head_dim)
    q_pe, k_pe = rope(q_pe), rope(k_pe [T, 1, rope])              # interleaved -> half permutation, then
                                                                  # neox rotation with cos/sin of [T, rope]
    q = cat(q_nope, q_pe); k = cat(k_nope, k_pe expanded to H heads)
    out = o_proj(softmax(q k^T * softmax_scale, masked) v)        # softmax in float32, cast back
    softmax_scale = (nope+rope)**-0.5 * m * m with m = 0.1 * mscale_all_dim * ln(factor) + 1
                    when rope_scaling has a non-zero mscale_all_dim (and factor > 1), else (nope+rope)**-0.5

KV cache: the compressed latent, like vLLM/FlashMLA. ``k_cache`` [layers, max_len, 1, kv_lora_rank]
holds kv_a_layernorm(c), ``v_cache`` [layers, max_len, 1, qk_rope_head_dim] holds the rotated k_pe;
k_nope / v are recomputed with kv_b_proj over the cached slots (the same row-wise products as forward).

Routing: see ``MoEGate.forward``; the expert combine has the "dense" / "hf" spellings of ``moe``.
"""

import re
from typing import Iterable, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import kv_quant, tiny
from .models import AttentionCore, CausalLM, DecoderLayer, DecoderModel, GatedMLP, RMSNorm, register_architecture
from .moe import GATE_STD, MoeCausalLMMixin, dense_combine
from .rope import (RopeParameters, ScaledRotaryEmbedding, apply_rotary, default_inv_freq, yarn_find_correction_range,
                   yarn_get_mscale, yarn_inv_freq)

# --------------------------------------------------------------------------------------------------
# Rotary embedding (DeepseekV2RotaryEmbedding / DeepseekV2YarnRotaryEmbedding)
# --------------------------------------------------------------------------------------------------


# The remote yarn_* helpers are rope.py's (the same formulas as HF's yarn); the remote code always
# truncates the correction range and has its own parameter defaults (deepseek_rotary_tables).


def deepseek_rope_scaling(cfg: dict) -> Optional[dict]:
    """The rope scaling dict (v4 ``rope_scaling`` or v5 ``rope_parameters``), None for plain rotary."""
    scaling = cfg.get("rope_scaling") or cfg.get("rope_parameters") or None
    if scaling is None:
        return None
    kind = scaling.get("type", scaling.get("rope_type", "default"))
    return None if kind == "default" else scaling


def deepseek_rope_theta(cfg: dict) -> float:
    params = cfg.get("rope_parameters") or {}
    return params.get("rope_theta", cfg.get("rope_theta") or 10000.0)


def deepseek_rotary_tables(cfg: dict) -> Tuple[torch.Tensor, float]:
    """(inv_freq float32 [rope/2], cos/sin multiplier) exactly as the remote rotary classes compute them."""
    dim = cfg["qk_rope_head_dim"]
    base = deepseek_rope_theta(cfg)
    scaling = deepseek_rope_scaling(cfg)
    if scaling is None:
        return default_inv_freq(base, dim), 1.0
    kind = scaling.get("type", scaling.get("rope_type"))
    if kind != "yarn":
        raise NotImplementedError(f"DeepSeek rope scaling {kind!r} is not supported (only yarn and none)")
    factor = scaling["factor"]
    original = scaling.get("original_max_position_embeddings", 4096)
    beta_fast = scaling.get("beta_fast", 32)
    beta_slow = scaling.get("beta_slow", 1)
    mscale = scaling.get("mscale", 1)
    mscale_all_dim = scaling.get("mscale_all_dim", 0)
    low, high = yarn_find_correction_range(beta_fast, beta_slow, dim, base, original)
    inv_freq = yarn_inv_freq(base, dim, factor, low, high)
    cos_scale = float(yarn_get_mscale(factor, mscale) / yarn_get_mscale(factor, mscale_all_dim))
    return inv_freq, cos_scale


def deepseek_softmax_scale(cfg: dict) -> float:
    """DeepseekV2Attention.softmax_scale: q_head_dim**-0.5, times mscale(factor, mscale_all_dim)**2."""
    scale = (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]) ** (-0.5)
    scaling = cfg.get("rope_scaling") or cfg.get("rope_parameters")
    if scaling is not None:
        mscale_all_dim = scaling.get("mscale_all_dim", 0)
        if mscale_all_dim:
            mscale = yarn_get_mscale(scaling["factor"], mscale_all_dim)
            scale = scale * mscale * mscale
    return scale


class DeepseekRotaryEmbedding(ScaledRotaryEmbedding):
    """cos/sin [T, rope] = (cos|sin(pos * inv_freq, duplicated) * cos_scale) in float32, cast to the model
    dtype: HF's static rotary over the remote code's tables."""

    def __init__(self, inv_freq: torch.Tensor, cos_scale: float):
        super().__init__(RopeParameters.precomputed(inv_freq, cos_scale))


def apply_rotary_interleaved(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, heads: int) -> torch.Tensor:
    """Remote apply_rotary_pos_emb: de-interleave the rope dims (x[2i] -> i, x[2i+1] -> d/2 + i), then
    rotate_half rotation. x: [T, heads, d], cos/sin: [T, d]. The output stays in the permuted order."""
    d = x.shape[-1]
    x = x.view(-1, heads, d // 2, 2).transpose(3, 2).reshape(-1, heads, d)
    return apply_rotary(x, cos, sin, d // 2)


# --------------------------------------------------------------------------------------------------
# Multi-head latent attention
# --------------------------------------------------------------------------------------------------


class DeepseekMLAttention(AttentionCore):
    """DeepseekV2Attention / DeepseekV3Attention (eager) over a flat sequence, latent KV cache."""

    def __init__(self, cfg: dict, variant: frozenset):
        heads = cfg["num_attention_heads"]
        super().__init__(heads, heads, cfg["v_head_dim"], deepseek_softmax_scale(cfg), None, False)
        hidden = cfg["hidden_size"]
        bias = bool(cfg.get("attention_bias", False))
        self.q_lora_rank = cfg.get("q_lora_rank")
        self.kv_lora_rank = cfg["kv_lora_rank"]
        self.qk_nope_head_dim = cfg["qk_nope_head_dim"]
        self.qk_rope_head_dim = cfg["qk_rope_head_dim"]
        self.v_head_dim = cfg["v_head_dim"]
        self.q_head_dim = self.qk_nope_head_dim + self.qk_rope_head_dim
        if self.q_lora_rank is None:
            self.q_proj = nn.Linear(hidden, heads * self.q_head_dim, bias=False)
        else:
            self.q_a_proj = nn.Linear(hidden, self.q_lora_rank, bias=bias)
            self.q_a_layernorm = RMSNorm(self.q_lora_rank, 1e-6, variant)  # remote code: default eps
            self.q_b_proj = nn.Linear(self.q_lora_rank, heads * self.q_head_dim, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(hidden, self.kv_lora_rank + self.qk_rope_head_dim, bias=bias)
        self.kv_a_layernorm = RMSNorm(self.kv_lora_rank, 1e-6, variant)  # remote code: default eps
        self.kv_b_proj = nn.Linear(self.kv_lora_rank, heads * (self.qk_nope_head_dim + self.v_head_dim), bias=False)
        self.o_proj = nn.Linear(heads * self.v_head_dim, hidden, bias=bias)

    def forward(self, x, cos, sin, positions, latent_cache=None, rope_cache=None):
        if self.q_lora_rank is None:
            q = self.q_proj(x)
        else:
            q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(x)))
        q = q.view(-1, self.num_heads, self.q_head_dim)
        q_nope, q_pe = torch.split(q, [self.qk_nope_head_dim, self.qk_rope_head_dim], dim=-1)
        compressed_kv, k_pe = torch.split(self.kv_a_proj_with_mqa(x), [self.kv_lora_rank, self.qk_rope_head_dim],
                                          dim=-1)
        latent = self.kv_a_layernorm(compressed_kv)  # [T, kv_lora_rank]
        k_pe = k_pe.view(-1, 1, self.qk_rope_head_dim)
        q_pe = apply_rotary_interleaved(q_pe, cos, sin, self.num_heads)
        k_pe = apply_rotary_interleaved(k_pe, cos, sin, 1)
        # vgcu's MLA cache holds these two; quantized, attention sees their round trip.
        latent, k_pe = kv_quant.round_trip(latent), kv_quant.round_trip(k_pe)
        k_positions = positions
        if latent_cache is not None and rope_cache is not None:
            latent_cache.index_copy_(0, positions, latent.view(-1, 1, self.kv_lora_rank))
            rope_cache.index_copy_(0, positions, k_pe)
            latent = latent_cache.view(-1, self.kv_lora_rank)
            k_pe = rope_cache
            k_positions = torch.arange(latent_cache.size(0), dtype=positions.dtype, device=positions.device)
        kv = self.kv_b_proj(latent).view(-1, self.num_heads, self.qk_nope_head_dim + self.v_head_dim)
        k_nope, value = torch.split(kv, [self.qk_nope_head_dim, self.v_head_dim], dim=-1)
        query = torch.cat((q_nope, q_pe), dim=-1)
        key = torch.cat((k_nope, k_pe.expand(-1, self.num_heads, -1)), dim=-1)
        return self.o_proj(self.attend(query, key, value, positions, k_positions))


# --------------------------------------------------------------------------------------------------
# DeepSeekMoE
# --------------------------------------------------------------------------------------------------


class MoEGate(nn.Module):
    """Remote ``MoEGate``; ``version`` 2 or 3 selects where routed_scaling_factor applies.

    Returns (topk_idx [T, k] int64, topk_weight [T, k] float32, dense weights [T, E] float32).
    """

    def __init__(self, cfg: dict, version: int):
        super().__init__()
        self.version = version
        self.top_k = cfg["num_experts_per_tok"]
        self.n_routed_experts = cfg["n_routed_experts"]
        self.routed_scaling_factor = float(cfg["routed_scaling_factor"])
        self.scoring_func = cfg["scoring_func"]
        self.topk_method = cfg["topk_method"]
        self.n_group = cfg.get("n_group")
        self.topk_group = cfg.get("topk_group")
        self.norm_topk_prob = bool(cfg["norm_topk_prob"])
        if self.scoring_func not in ("softmax", "sigmoid"):
            raise NotImplementedError(f"insupportable scoring function for MoE gating: {self.scoring_func}")
        if self.topk_method not in ("greedy", "gready", "group_limited_greedy", "noaux_tc"):
            raise NotImplementedError(f"insupportable TopK function for MoE gating: {self.topk_method}")
        if self.topk_method in ("group_limited_greedy", "noaux_tc") and (
                not self.n_group or self.n_routed_experts % self.n_group or not self.topk_group):
            raise ValueError(f"{self.topk_method} needs n_group dividing n_routed_experts and topk_group")
        self.weight = nn.Parameter(torch.empty((self.n_routed_experts, cfg["hidden_size"])))
        if self.topk_method == "noaux_tc":
            self.e_score_correction_bias = nn.Parameter(torch.empty((self.n_routed_experts,)))

    def _group_mask(self, group_scores: torch.Tensor) -> torch.Tensor:
        group_idx = torch.topk(group_scores, k=self.topk_group, dim=-1, sorted=False)[1]  # [n, topk_group]
        group_mask = torch.zeros_like(group_scores)
        group_mask.scatter_(1, group_idx, 1)
        return (group_mask.unsqueeze(-1).expand(-1, self.n_group, self.n_routed_experts // self.n_group)
                .reshape(-1, self.n_routed_experts))  # [n, e]

    def forward(self, x: torch.Tensor):
        logits = F.linear(x.type(torch.float32), self.weight.type(torch.float32), None)
        if self.scoring_func == "softmax":
            scores = logits.softmax(dim=-1, dtype=torch.float32)
        else:
            scores = logits.sigmoid()
        if self.topk_method in ("greedy", "gready"):
            topk_weight, topk_idx = torch.topk(scores, k=self.top_k, dim=-1, sorted=False)
        elif self.topk_method == "group_limited_greedy":
            group_scores = scores.view(-1, self.n_group, self.n_routed_experts // self.n_group).max(dim=-1).values
            tmp_scores = scores.masked_fill(~self._group_mask(group_scores).bool(), 0.0)
            topk_weight, topk_idx = torch.topk(tmp_scores, k=self.top_k, dim=-1, sorted=False)
        else:  # noaux_tc
            scores_for_choice = scores + self.e_score_correction_bias.unsqueeze(0)
            group_scores = (scores_for_choice.view(-1, self.n_group, self.n_routed_experts // self.n_group)
                            .topk(2, dim=-1)[0].sum(dim=-1))
            tmp_scores = scores_for_choice.masked_fill(~self._group_mask(group_scores).bool(), 0.0)
            _, topk_idx = torch.topk(tmp_scores, k=self.top_k, dim=-1, sorted=False)
            topk_weight = scores.gather(1, topk_idx)
        if self.version == 2:
            if self.top_k > 1 and self.norm_topk_prob:
                topk_weight = topk_weight / (topk_weight.sum(dim=-1, keepdim=True) + 1e-20)
            else:
                topk_weight = topk_weight * self.routed_scaling_factor
        else:
            if self.top_k > 1 and self.norm_topk_prob:
                topk_weight = topk_weight / (topk_weight.sum(dim=-1, keepdim=True) + 1e-20)
            topk_weight = topk_weight * self.routed_scaling_factor
        dense_weights = torch.zeros_like(scores).scatter(1, topk_idx, topk_weight)
        return topk_idx, topk_weight, dense_weights


def hf_deepseek_expert_loop(x, experts, topk_indices, topk_weights):
    """transformers DeepseekV3MoE.moe, verbatim: float32 accumulation over experts in ascending order."""
    final_hidden_states = torch.zeros_like(x, dtype=topk_weights.dtype)
    expert_mask = F.one_hot(topk_indices, num_classes=len(experts)).permute(2, 0, 1)
    for expert_idx in range(len(experts)):
        expert = experts[expert_idx]
        token_indices, weight_indices = torch.where(expert_mask[expert_idx])
        if token_indices.numel() > 0:
            expert_weights = topk_weights[token_indices, weight_indices]
            weighted_output = expert(x[token_indices]) * expert_weights.unsqueeze(-1)
            final_hidden_states.index_add_(0, token_indices, weighted_output)
    return final_hidden_states.type(x.dtype)


class DeepseekMoE(nn.Module):
    """DeepseekV2MoE / DeepseekV3MoE (inference): routed experts (float32 combine) + shared experts."""

    def __init__(self, cfg: dict, version: int, variant: frozenset):
        super().__init__()
        hidden, act = cfg["hidden_size"], cfg["hidden_act"]
        self.experts = nn.ModuleList([GatedMLP(hidden, cfg["moe_intermediate_size"], act, variant)
                                      for _ in range(cfg["n_routed_experts"])])
        self.gate = MoEGate(cfg, version)
        self.has_shared_experts = cfg.get("n_shared_experts") is not None
        if self.has_shared_experts:
            self.shared_experts = GatedMLP(hidden, cfg["moe_intermediate_size"] * cfg["n_shared_experts"], act,
                                           variant)
        self.moe_impl = "dense"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        topk_idx, topk_weight, dense_weights = self.gate(x)
        if self.moe_impl == "hf":
            y = hf_deepseek_expert_loop(x, self.experts, topk_idx, topk_weight)
        else:
            y = dense_combine(x, self.experts, dense_weights).to(x.dtype)
        if self.has_shared_experts:
            y = y + self.shared_experts(x)
        return y


def deepseek_layer_is_moe(cfg: dict, layer_idx: int) -> bool:
    """Remote DeepseekV2/V3DecoderLayer: MoE iff n_routed_experts, layer >= first_k_dense_replace, on the freq."""
    return (cfg.get("n_routed_experts") is not None and layer_idx >= cfg["first_k_dense_replace"]
            and layer_idx % cfg["moe_layer_freq"] == 0)


# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


DEEPSEEK_V2_DEFAULTS = {  # remote DeepseekV2Config
    "model_type": "deepseek_v2",
    "vocab_size": 102400,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "moe_intermediate_size": 1407,
    "num_hidden_layers": 30,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "n_shared_experts": None,
    "n_routed_experts": None,
    "ep_size": 1,
    "routed_scaling_factor": 1.0,
    "kv_lora_rank": 512,
    "q_lora_rank": 1536,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
    "qk_nope_head_dim": 128,
    "topk_method": "gready",
    "n_group": None,
    "topk_group": None,
    "num_experts_per_tok": None,
    "moe_layer_freq": 1,
    "first_k_dense_replace": 0,
    "norm_topk_prob": False,
    "scoring_func": "softmax",
    "aux_loss_alpha": 0.001,
    "seq_aux": True,
    "hidden_act": "silu",
    "max_position_embeddings": 2048,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "pad_token_id": None,
    "bos_token_id": 100000,
    "eos_token_id": 100001,
    "pretraining_tp": 1,
    "tie_word_embeddings": False,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "attention_bias": False,
    "attention_dropout": 0.0,
}

DEEPSEEK_V3_DEFAULTS = {  # remote DeepseekV3Config
    **DEEPSEEK_V2_DEFAULTS,
    "model_type": "deepseek_v3",
    "vocab_size": 129280,
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "moe_intermediate_size": 2048,
    "num_hidden_layers": 61,
    "num_nextn_predict_layers": 1,
    "num_attention_heads": 128,
    "num_key_value_heads": 128,
    "n_shared_experts": 1,
    "n_routed_experts": 256,
    "routed_scaling_factor": 2.5,
    "topk_method": "noaux_tc",
    "n_group": 8,
    "topk_group": 4,
    "num_experts_per_tok": 8,
    "first_k_dense_replace": 3,
    "norm_topk_prob": True,
    "scoring_func": "sigmoid",
    "max_position_embeddings": 4096,
    "bos_token_id": 0,
    "eos_token_id": 1,
}


class _DeepseekCausalLM(MoeCausalLMMixin, CausalLM):
    version = 2

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        layers = []
        for i in range(cfg["num_hidden_layers"]):
            attention = DeepseekMLAttention(cfg, self.variant)
            if deepseek_layer_is_moe(cfg, i):
                mlp = DeepseekMoE(cfg, self.version, self.variant)
            else:
                mlp = GatedMLP(cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_act"], self.variant)
            layers.append(DecoderLayer(cfg, attention, mlp, self.variant))
        # ``model``: embed_tokens, layers, norm, and one rotary table shared by the layers (not in checkpoints)
        self.model = DecoderModel(cfg, layers, self.variant,
                                  rotary_emb=DeepseekRotaryEmbedding(*deepseek_rotary_tables(cfg)))
        self._finish(self.model.embed_tokens, cfg["hidden_size"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        if cfg.get("num_key_value_heads") is None:
            cfg["num_key_value_heads"] = cfg["num_attention_heads"]
        cfg.pop("head_dim", None)  # MLA has no single head_dim; never read
        return cfg

    @staticmethod
    def family_sliding_windows(cfg: dict) -> List[Optional[int]]:
        return [None] * cfg["num_hidden_layers"]

    # --- latent KV cache ----------------------------------------------------------------------------
    @property
    def num_kv_heads(self) -> int:
        return 1

    @property
    def head_dim(self) -> int:
        return self.config["kv_lora_rank"]

    def kv_cache_shape(self, max_len: int) -> Tuple[int, int, int, int]:
        """k_cache: [layers, max_len, 1, kv_lora_rank] normalized latents (v_cache: see v_cache_shape)."""
        return (self.num_layers, max_len, 1, self.config["kv_lora_rank"])

    def v_cache_shape(self, max_len: int) -> Tuple[int, int, int, int]:
        """v_cache: [layers, max_len, 1, qk_rope_head_dim] rotated rope keys."""
        return (self.num_layers, max_len, 1, self.config["qk_rope_head_dim"])

    def new_kv_cache(self, max_len: int) -> Tuple[torch.Tensor, torch.Tensor]:
        return (torch.zeros(self.kv_cache_shape(max_len), dtype=self.dtype),
                torch.zeros(self.v_cache_shape(max_len), dtype=self.dtype))

    # --- checkpoints / init -------------------------------------------------------------------------
    def ignored_checkpoint_tensor(self, name: str) -> bool:
        """V3 multi-token-prediction layers (model.layers.{L .. L+num_nextn_predict_layers-1}.*) are not
        part of the causal LM: loading skips them (HF: _keys_to_ignore_on_load_unexpected)."""
        extra = int(self.config.get("num_nextn_predict_layers") or 0)
        match = re.match(r"model\.layers\.(\d+)\.", name)
        n = self.config["num_hidden_layers"]
        return bool(match) and n <= int(match.group(1)) < n + extra

    def init_parameter(self, name, module, leaf, param, normal):
        if isinstance(module, MoEGate):
            if leaf == "weight":
                return normal(param.shape, GATE_STD * param.shape[1] ** -0.5)
            # Non-zero correction bias of both signs, comparable to the spread of sigmoid scores.
            return normal(param.shape, 0.1)
        return None


class DeepseekV2ForCausalLM(_DeepseekCausalLM):
    """Remote DeepseekV2ForCausalLM: routed_scaling_factor only when the top-k weights are not renormalized."""

    architecture = "DeepseekV2ForCausalLM"
    version = 2


class DeepseekV3ForCausalLM(_DeepseekCausalLM):
    """Remote DeepseekV3ForCausalLM: routed_scaling_factor always multiplies the (renormalized) weights."""

    architecture = "DeepseekV3ForCausalLM"
    version = 3


# --------------------------------------------------------------------------------------------------
# Registration and tiny presets
# --------------------------------------------------------------------------------------------------

_TINY_DEEPSEEK = {
    "vocab_size": 250,
    "hidden_size": 64,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "num_hidden_layers": 3,
    "first_k_dense_replace": 1,  # layer 0 dense MLP (intermediate_size), layers 1-2 MoE
    "moe_layer_freq": 1,
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "n_routed_experts": 8,
    "num_experts_per_tok": 2,
    "kv_lora_rank": 32,
    "qk_rope_head_dim": 8,
    "qk_nope_head_dim": 16,
    "v_head_dim": 16,
    "max_position_embeddings": 128,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "attention_bias": False,
    "tie_word_embeddings": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
}

TINY_DEEPSEEK_V2 = {  # DeepSeek-V2-Lite shaped
    **_TINY_DEEPSEEK,
    "q_lora_rank": None,
    "n_shared_experts": 2,
    "topk_method": "greedy",
    "n_group": 1,
    "topk_group": 1,
    "norm_topk_prob": False,
    "routed_scaling_factor": 1.5,  # V2-Lite has 1.0 (V2: 16.0); != 1 so that it is exercised
    "scoring_func": "softmax",
    "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 16, "beta_fast": 32,
                     "beta_slow": 1, "mscale": 0.707, "mscale_all_dim": 0.707},
}

TINY_DEEPSEEK_V3 = {  # DeepSeek-V3 shaped
    **_TINY_DEEPSEEK,
    "q_lora_rank": 32,
    "n_shared_experts": 1,
    "topk_method": "noaux_tc",
    "n_group": 4,
    "topk_group": 2,
    "norm_topk_prob": True,
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "num_nextn_predict_layers": 1,
    "rope_scaling": {"type": "yarn", "factor": 4, "original_max_position_embeddings": 16, "beta_fast": 32,
                     "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
}

_BENCH_DEEPSEEK = {
    "num_key_value_heads": 8,
    "intermediate_size": 1376,
    "moe_intermediate_size": 344,
    "kv_lora_rank": 128,
    "qk_rope_head_dim": 32,
    "qk_nope_head_dim": 64,
    "v_head_dim": 64,
}


def _no_head_dim(config: dict, size_overrides: dict) -> None:
    """tiny_config hook: MLA has no head_dim."""
    config.pop("head_dim", None)


register_architecture(DeepseekV2ForCausalLM, DEEPSEEK_V2_DEFAULTS)
register_architecture(DeepseekV3ForCausalLM, DEEPSEEK_V3_DEFAULTS)
tiny.register_tiny_preset("DeepseekV2ForCausalLM", TINY_DEEPSEEK_V2, _BENCH_DEEPSEEK, adjust=_no_head_dim)
tiny.register_tiny_preset("DeepseekV3ForCausalLM", TINY_DEEPSEEK_V3, {**_BENCH_DEEPSEEK, "q_lora_rank": 192},
                          adjust=_no_head_dim)
