"""Mixture-of-experts references: MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM.

Same flat-sequence interface as ``models`` (see its docstring); attention, RMSNorm, rotary and the
decoder skeleton are the Llama-family blocks. Checkpoint names are HF's:

    Mixtral    model.layers.N.block_sparse_moe.gate.weight              [E, hidden]
               model.layers.N.block_sparse_moe.experts.E.w1|w3.weight   [intermediate_size, hidden]
               model.layers.N.block_sparse_moe.experts.E.w2.weight      [hidden, intermediate_size]
    Qwen2-MoE  model.layers.N.mlp.gate.weight                           [E, hidden]
               model.layers.N.mlp.experts.E.{gate,up,down}_proj.weight  (moe_intermediate_size)
               model.layers.N.mlp.shared_expert.{gate,up,down}_proj.weight (shared_expert_intermediate_size)
               model.layers.N.mlp.shared_expert_gate.weight             [1, hidden]
               dense layers: model.layers.N.mlp.{gate,up,down}_proj.weight (intermediate_size)
    Qwen3-MoE  like Qwen2-MoE without shared expert; q_norm/k_norm per head; no q/k/v biases.

Routing (HF eager, ``Mixtral/Qwen2Moe/Qwen3MoeSparseMoeBlock.forward``), x: [T, hidden] model dtype:

    router_logits = x @ gate.weight.T                            # model dtype
    probs = softmax(router_logits.float(), dim=-1)               # float32
    w, idx = topk(probs, top_k)                                  # float32, sorted descending
    if renormalize: w = w / w.sum(-1, keepdim=True)              # Mixtral: always; Qwen: norm_topk_prob
    w = w.to(model dtype)
    out = zeros(T, hidden, model dtype)
    for e in ascending expert ids hit: out[tokens of e] += expert_e(x[tokens]) * w[token, slot]  (model dtype)
    Qwen2-MoE: out = out + sigmoid(x @ shared_expert_gate.weight.T) * shared_expert(x)   (model dtype)

Two spellings of the expert combine are provided (``set_moe_impl``):
    "dense" (default)  every expert runs on every token and is weighted by a [T, E] matrix that is zero
                       for unselected experts, summed in ascending expert order. Equal to the HF loop
                       (0 * y adds nothing; the order of the non-zero terms is the same) and traceable
                       with a dynamic token count.
    "hf"               HF's literal loop (one_hot -> nonzero over experts hit -> torch.where ->
                       index_add_). ``torch.jit.trace`` cannot generalize it: the Python loop over
                       ``expert_hit`` and the module lookup ``experts[expert_idx]`` are unrolled for the
                       experts the example input happened to hit.
"""

from typing import Iterable, List, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import tiny
from .models import (ARCH_DEFAULTS, ROPE_COMMON_DEFAULTS, Attention, CausalLM, DecoderLayer, DecoderModel, GatedMLP,
                     register_architecture, resolve_heads)

MOE_IMPLS = ("dense", "hf")

# Router weights get std GATE_STD / sqrt(hidden) in init_random_weights: router logits of std ~2 give
# clear top-k decisions (margins far above bf16 rounding) without saturating the softmax.
GATE_STD = 2.0


# --------------------------------------------------------------------------------------------------
# Experts and the shared combine code
# --------------------------------------------------------------------------------------------------


# Qwen2Moe/Qwen3Moe/DeepSeek experts and dense MLPs are models.GatedMLP without biases.


class MixtralExpert(GatedMLP):
    """MixtralBlockSparseTop2MLP: w2(act(w1(x)) * w3(x)), created w1, w2, w3."""

    names = ("w1", "w3", "w2")
    down_before_up = True


def dense_combine(x: torch.Tensor, experts: nn.ModuleList, dense_weights: torch.Tensor) -> torch.Tensor:
    """sum_e experts[e](x) * dense_weights[:, e] in ascending e; dense_weights: [T, E], 0 = not routed.

    The product and the sum are in the promoted dtype of expert output and weights (model dtype for
    Mixtral/Qwen, float32 for DeepSeek whose routing weights stay float32).
    """
    out = None
    for e, expert in enumerate(experts):
        term = expert(x) * dense_weights[:, e:e + 1]
        out = term if out is None else out + term
    return out


def hf_expert_loop(x: torch.Tensor, experts: nn.ModuleList, routing_weights: torch.Tensor,
                   selected_experts: torch.Tensor) -> torch.Tensor:
    """HF MixtralSparseMoeBlock's loop, verbatim: index_add_ of weighted expert outputs in x's dtype."""
    hidden_dim = x.shape[-1]
    final_hidden_states = torch.zeros_like(x)
    expert_mask = F.one_hot(selected_experts, num_classes=len(experts)).permute(2, 1, 0)  # [E, k, T]
    expert_hit = torch.greater(expert_mask.sum(dim=(-1, -2)), 0).nonzero()
    for expert_idx in expert_hit:
        expert_layer = experts[int(expert_idx)]
        idx, top_x = torch.where(expert_mask[expert_idx].squeeze(0))
        current_state = x[None, top_x].reshape(-1, hidden_dim)
        current_hidden_states = expert_layer(current_state) * routing_weights[top_x, idx, None]
        final_hidden_states.index_add_(0, top_x, current_hidden_states.to(x.dtype))
    return final_hidden_states


class SparseMoeBlock(nn.Module):
    """Softmax top-k MoE of Mixtral (always renormalized) and Qwen2/3-MoE (norm_topk_prob, shared expert)."""

    def __init__(self, hidden: int, num_experts: int, top_k: int, renormalize: bool, experts: List[nn.Module],
                 shared_expert: Optional[nn.Module] = None):
        super().__init__()
        self.num_experts = num_experts
        self.top_k = top_k
        self.renormalize = renormalize
        self.gate = nn.Linear(hidden, num_experts, bias=False)
        self.experts = nn.ModuleList(experts)
        self.has_shared_expert = shared_expert is not None
        if shared_expert is not None:
            self.shared_expert = shared_expert
            self.shared_expert_gate = nn.Linear(hidden, 1, bias=False)
        self.moe_impl = "dense"

    def route(self, x: torch.Tensor):
        """(router_logits [T, E] model dtype, weights [T, k] model dtype, selected experts [T, k])."""
        router_logits = self.gate(x)
        routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
        routing_weights, selected_experts = torch.topk(routing_weights, self.top_k, dim=-1)
        if self.renormalize:
            routing_weights = routing_weights / routing_weights.sum(dim=-1, keepdim=True)
        return router_logits, routing_weights.to(x.dtype), selected_experts

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        router_logits, routing_weights, selected_experts = self.route(x)
        if self.moe_impl == "hf":
            out = hf_expert_loop(x, self.experts, routing_weights, selected_experts)
        else:
            dense_weights = torch.zeros_like(router_logits).scatter(1, selected_experts, routing_weights)
            out = dense_combine(x, self.experts, dense_weights)
        if self.has_shared_expert:
            shared = torch.sigmoid(self.shared_expert_gate(x)) * self.shared_expert(x)
            out = out + shared
        return out


# Mixtral's decoder layer names its feed-forward module block_sparse_moe (Qwen, DeepSeek: mlp).
MIXTRAL_LAYER_NAMES = ("self_attn", "block_sparse_moe", "input_layernorm", "post_attention_layernorm")


class MoeCausalLMMixin:
    """set_moe_impl and router initialization shared by every MoE reference."""

    def set_moe_impl(self, impl: str):
        """Choose the expert combine of every MoE block: "dense" (default, traceable) or "hf" (HF's loop)."""
        if impl not in MOE_IMPLS:
            raise ValueError(f"unknown moe impl {impl!r}; choose one of {MOE_IMPLS}")
        for module in self.modules():
            if "moe_impl" in vars(module):  # SparseMoeBlock, DeepseekMoE
                module.moe_impl = impl
        return self

    def init_parameter(self, name, module, leaf, param, normal):
        if name.endswith(".gate.weight") and isinstance(module, nn.Linear):  # routers
            return normal(param.shape, GATE_STD * param.shape[1] ** -0.5)
        return None


# --------------------------------------------------------------------------------------------------
# Mixtral
# --------------------------------------------------------------------------------------------------

MIXTRAL_DEFAULTS = {  # MixtralConfig: MistralConfig's fields (other eps, theta, no window) + routing
    **ARCH_DEFAULTS["MistralForCausalLM"],
    "model_type": "mixtral",
    "rms_norm_eps": 1e-5,
    "rope_theta": 1e6,
    "sliding_window": None,
    "num_experts_per_tok": 2,
    "num_local_experts": 8,
    "output_router_logits": False,
    "router_aux_loss_coef": 0.001,
    "router_jitter_noise": 0.0,
}


class MixtralForCausalLM(MoeCausalLMMixin, CausalLM):
    """HF MixtralForCausalLM: Mistral attention (sliding_window on every layer if set) + top-k MoE."""

    architecture = "MixtralForCausalLM"

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        layers = []
        for i in range(cfg["num_hidden_layers"]):
            attention = Attention(cfg, qkv_bias=False, o_bias=False, qk_norm=False,
                                  sliding_window=cfg.get("sliding_window"), variant=self.variant)
            experts = [MixtralExpert(cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_act"], self.variant)
                       for _ in range(cfg["num_local_experts"])]
            moe = SparseMoeBlock(cfg["hidden_size"], cfg["num_local_experts"], cfg["num_experts_per_tok"], True,
                                 experts)
            layers.append(DecoderLayer(cfg, attention, moe, self.variant, names=MIXTRAL_LAYER_NAMES))
        self.model = DecoderModel(cfg, layers, self.variant)
        self._finish(self.model.embed_tokens, cfg["hidden_size"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        return resolve_heads(cfg)

    @staticmethod
    def family_sliding_windows(cfg: dict) -> List[Optional[int]]:
        return [cfg.get("sliding_window")] * cfg["num_hidden_layers"]


# --------------------------------------------------------------------------------------------------
# Qwen2-MoE and Qwen3-MoE
# --------------------------------------------------------------------------------------------------

_QWEN_MOE_COMMON = {  # fields whose defaults Qwen2MoeConfig and Qwen3MoeConfig share
    **ROPE_COMMON_DEFAULTS,
    "vocab_size": 151936,
    "hidden_size": 2048,
    "num_hidden_layers": 24,
    "max_position_embeddings": 32768,
    "use_sliding_window": False,
    "sliding_window": 4096,
    "max_window_layers": 28,
    "decoder_sparse_step": 1,
    "norm_topk_prob": False,
    "output_router_logits": False,
    "router_aux_loss_coef": 0.001,
    "mlp_only_layers": None,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
}

QWEN2_MOE_DEFAULTS = {  # Qwen2MoeConfig
    **_QWEN_MOE_COMMON,
    "model_type": "qwen2_moe",
    "intermediate_size": 5632,
    "num_attention_heads": 16,
    "num_key_value_heads": 16,
    "moe_intermediate_size": 1408,
    "shared_expert_intermediate_size": 5632,
    "num_experts_per_tok": 4,
    "num_experts": 60,
    "qkv_bias": True,
}

QWEN3_MOE_DEFAULTS = {  # Qwen3MoeConfig
    **_QWEN_MOE_COMMON,
    "model_type": "qwen3_moe",
    "intermediate_size": 6144,
    "num_attention_heads": 32,
    "num_key_value_heads": 4,
    "attention_bias": False,
    "moe_intermediate_size": 768,
    "num_experts_per_tok": 8,
    "num_experts": 128,
}


def qwen_moe_layer_is_sparse(cfg: dict, layer_idx: int) -> bool:
    """Qwen2MoeDecoderLayer / Qwen3MoeDecoderLayer: MoE unless in mlp_only_layers or off the sparse step."""
    return (layer_idx not in cfg["mlp_only_layers"]) and (
        cfg["num_experts"] > 0 and (layer_idx + 1) % cfg["decoder_sparse_step"] == 0
    )


class _QwenMoeCausalLM(MoeCausalLMMixin, CausalLM):
    shared_expert = False

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        hidden, act = cfg["hidden_size"], cfg["hidden_act"]
        windows = self.family_sliding_windows(cfg)
        layers = []
        for i in range(cfg["num_hidden_layers"]):
            attention = Attention(cfg, sliding_window=windows[i], variant=self.variant, **self._attention_options())
            if qwen_moe_layer_is_sparse(cfg, i):
                experts = [GatedMLP(hidden, cfg["moe_intermediate_size"], act, self.variant)
                           for _ in range(cfg["num_experts"])]
                shared = (GatedMLP(hidden, cfg["shared_expert_intermediate_size"], act, self.variant)
                          if self.shared_expert else None)
                mlp = SparseMoeBlock(hidden, cfg["num_experts"], cfg["num_experts_per_tok"],
                                     bool(cfg["norm_topk_prob"]), experts, shared)
            else:
                mlp = GatedMLP(hidden, cfg["intermediate_size"], act, self.variant)
            layers.append(DecoderLayer(cfg, attention, mlp, self.variant))
        self.model = DecoderModel(cfg, layers, self.variant)
        self._finish(self.model.embed_tokens, hidden)

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        if cfg.get("mlp_only_layers") is None:
            cfg["mlp_only_layers"] = []
        return resolve_heads(cfg)


class Qwen2MoeForCausalLM(_QwenMoeCausalLM):
    """HF Qwen2MoeForCausalLM: q/k/v biases (qkv_bias), sigmoid-gated shared expert, no q/k norm."""

    architecture = "Qwen2MoeForCausalLM"
    shared_expert = True

    def _attention_options(self) -> dict:
        return {"qkv_bias": bool(self.config.get("qkv_bias", True)), "o_bias": False, "qk_norm": False}

    @staticmethod
    def family_sliding_windows(cfg: dict) -> List[Optional[int]]:
        if cfg.get("use_sliding_window"):
            # HF's layer choice differs between versions (max_window_layers vs. every other layer).
            raise NotImplementedError("Qwen2-MoE with use_sliding_window=true is not supported by the reference")
        return [None] * cfg["num_hidden_layers"]


class Qwen3MoeForCausalLM(_QwenMoeCausalLM):
    """HF Qwen3MoeForCausalLM: per-head q/k RMSNorm before rotary, attention_bias on q/k/v/o, no shared expert."""

    architecture = "Qwen3MoeForCausalLM"

    def _attention_options(self) -> dict:
        bias = bool(self.config.get("attention_bias", False))
        return {"qkv_bias": bias, "o_bias": bias, "qk_norm": True}

    @staticmethod
    def family_sliding_windows(cfg: dict) -> List[Optional[int]]:
        # Qwen3MoeConfig: sliding_window = sliding_window if use_sliding_window else None, on every layer.
        window = cfg.get("sliding_window") if cfg.get("use_sliding_window") else None
        return [window] * cfg["num_hidden_layers"]


# --------------------------------------------------------------------------------------------------
# Registration and tiny presets
# --------------------------------------------------------------------------------------------------

_TINY_MOE = {
    **tiny.TINY_ROPE,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
}

TINY_MIXTRAL = {
    **_TINY_MOE,
    "num_hidden_layers": 2,
    "intermediate_size": 32,  # Mixtral's experts are intermediate_size wide
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 1e6,
    "sliding_window": None,
}
TINY_QWEN2_MOE = {
    **_TINY_MOE,
    "num_hidden_layers": 2,
    "decoder_sparse_step": 2,  # layer 0 dense (intermediate_size), layer 1 MoE
    "mlp_only_layers": [],
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 64,
    "num_experts": 8,
    "num_experts_per_tok": 2,
    "norm_topk_prob": False,
    "qkv_bias": True,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1e6,
    "use_sliding_window": False,
    "sliding_window": None,
}
TINY_QWEN3_MOE = {
    **_TINY_MOE,
    "num_hidden_layers": 3,
    "decoder_sparse_step": 1,
    "mlp_only_layers": [1],  # layers 0 and 2 MoE, layer 1 dense (intermediate_size)
    "head_dim": 32,  # != hidden / heads (16), like Qwen3-30B-A3B (128 vs 64)
    "intermediate_size": 96,
    "moe_intermediate_size": 32,
    "num_experts": 8,
    "num_experts_per_tok": 2,
    "norm_topk_prob": True,
    "attention_bias": False,
    "rms_norm_eps": 1e-6,
    "rope_theta": 1e6,
    "use_sliding_window": False,
    "sliding_window": None,
}


def _keep_preset_head_dim(config: dict, size_overrides: dict) -> None:
    """tiny_config hook: head_dim = hidden / heads unless given (Qwen3-MoE: the preset's explicit head_dim)."""
    if "head_dim" not in size_overrides and config.get("head_dim") is None:
        config["head_dim"] = config["hidden_size"] // config["num_attention_heads"]


register_architecture(MixtralForCausalLM, MIXTRAL_DEFAULTS)
register_architecture(Qwen2MoeForCausalLM, QWEN2_MOE_DEFAULTS)
register_architecture(Qwen3MoeForCausalLM, QWEN3_MOE_DEFAULTS)
# Mixtral and Qwen2-MoE: tiny_config's default head_dim (hidden_size / num_attention_heads).
tiny.register_tiny_preset("MixtralForCausalLM", TINY_MIXTRAL, {"intermediate_size": 688})
tiny.register_tiny_preset("Qwen2MoeForCausalLM", TINY_QWEN2_MOE,
                          {"moe_intermediate_size": 344, "shared_expert_intermediate_size": 688})
tiny.register_tiny_preset("Qwen3MoeForCausalLM", TINY_QWEN3_MOE, {"head_dim": 64, "moe_intermediate_size": 344},
                          adjust=_keep_preset_head_dim)
