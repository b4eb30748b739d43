"""Tests of the MoE references: Mixtral, Qwen2-MoE, Qwen3-MoE (vgcu_ref/moe.py), DeepSeek-V2/V3 (deepseek.py).

Imported by test_reference.py (run `/usr/bin/python3 python/test_reference.py`); runs alone too.
Checked against LITERAL transcriptions of the original eager code: HF transformers'
Mixtral/Qwen2Moe/Qwen3Moe SparseMoeBlock and attention (batched [1, heads, T, D] layout, additive
finfo.min mask), and DeepSeek's remote modeling_deepseek.py (MoEGate of V2 and V3, moe_infer's
argsort/cat/scatter combine, DeepseekV2Attention with its cos/sin cache, yarn rotary,
apply_rotary_pos_emb's interleaved->half permutation, new_empty + slice assignment of q/k).
"""

import json
import math
import os
import sys
import unittest
import warnings

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import make_tiny_model  # noqa: E402
import run_reference  # noqa: E402
import trace_model  # noqa: E402
from vgcu_ref import safetensors_io as st  # noqa: E402
from vgcu_ref.checkpoint import load_model, load_weights, save_model  # noqa: E402
from vgcu_ref.deepseek import (DeepseekMoE, DeepseekRotaryEmbedding, MoEGate, deepseek_layer_is_moe,  # noqa: E402
                               deepseek_rotary_tables)
from vgcu_ref.generate import greedy_generate, greedy_generate_with_cache  # noqa: E402
from vgcu_ref.models import MODEL_CLASSES, architecture_of, build_model, resolve_config  # noqa: E402
from vgcu_ref.moe import SparseMoeBlock, qwen_moe_layer_is_sparse  # noqa: E402
from vgcu_ref.tiny import tiny_config  # noqa: E402
from vgcu_ref_testing import (TempDirMixin, assert_close, hf_causal_mask, hf_linear, hf_llama_logits,  # noqa: E402
                              hf_rms_norm, hf_rotate_half, meta_device, run_main, sequence, tiny_model)

__all__ = ["MOE_LITERAL_LOGITS", "MOE_ARCHS", "MoeLiteralTest", "MoeRoutingTest", "MoeLayoutTest",
           "MoeCacheTraceTest", "MoeCheckpointCliTest"]

warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
warnings.filterwarnings("ignore", message="nn.functional.sigmoid is deprecated")  # literal HF code uses F.sigmoid

MOE_ARCHS = ["MixtralForCausalLM", "Qwen2MoeForCausalLM", "Qwen3MoeForCausalLM", "DeepseekV2ForCausalLM",
             "DeepseekV3ForCausalLM"]
DEEPSEEK_ARCHS = MOE_ARCHS[3:]
SHARED_CONFIGS = "/work/shared/configs"
REPO_CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "data", "configs")


# ------------------------------------------------------------------------------------------------
# Literal transcriptions (HF batched layout)
# ------------------------------------------------------------------------------------------------


def _silu_mlp(sd, p, x, names=("gate_proj", "up_proj", "down_proj")):
    gate, up, down = names
    return hf_linear(sd, p + down, F.silu(hf_linear(sd, p + gate, x)) * hf_linear(sd, p + up, x))


def literal_sparse_moe_block(sd, p, cfg, hidden_states, mixtral):
    """HF MixtralSparseMoeBlock / Qwen2MoeSparseMoeBlock / Qwen3MoeSparseMoeBlock.forward, verbatim."""
    num_experts = cfg["num_local_experts"] if mixtral else cfg["num_experts"]
    top_k = cfg["num_experts_per_tok"]

    def expert_layer(e, x):
        if mixtral:
            return _silu_mlp(sd, f"{p}experts.{e}.", x, ("w1", "w3", "w2"))
        return _silu_mlp(sd, f"{p}experts.{e}.", x)

    batch_size, sequence_length, hidden_dim = hidden_states.shape
    hidden_states = hidden_states.view(-1, hidden_dim)
    router_logits = F.linear(hidden_states, sd[p + "gate.weight"])
    routing_weights = F.softmax(router_logits, dim=1, dtype=torch.float)
    routing_weights, selected_experts = torch.topk(routing_weights, top_k, dim=-1)
    if mixtral or cfg["norm_topk_prob"]:
        routing_weights /= routing_weights.sum(dim=-1, keepdim=True)
    routing_weights = routing_weights.to(hidden_states.dtype)
    final_hidden_states = torch.zeros((batch_size * sequence_length, hidden_dim), dtype=hidden_states.dtype)
    expert_mask = torch.nn.functional.one_hot(selected_experts, num_classes=num_experts).permute(2, 1, 0)
    expert_hitted = (expert_mask.sum(dim=(-1, -2)) > 0).nonzero(as_tuple=True)[0].tolist()
    for expert_idx in expert_hitted:
        idx, top_x = torch.where(expert_mask[expert_idx])
        current_state = hidden_states[None, top_x].reshape(-1, hidden_dim)
        current_hidden_states = expert_layer(expert_idx, current_state) * routing_weights[top_x, idx, None]
        final_hidden_states.index_add_(0, top_x, current_hidden_states.to(hidden_states.dtype))
    if p + "shared_expert_gate.weight" in sd:  # Qwen2-MoE
        shared_expert_output = _silu_mlp(sd, p + "shared_expert.", hidden_states)
        shared_expert_output = F.sigmoid(F.linear(hidden_states, sd[p + "shared_expert_gate.weight"])) * \
            shared_expert_output
        final_hidden_states = final_hidden_states + shared_expert_output
    return final_hidden_states.reshape(batch_size, sequence_length, hidden_dim)


def literal_rope_moe_logits(model, input_ids):
    """HF Mixtral / Qwen2Moe / Qwen3Moe eager forward (default rope, no sliding window): the Llama
    family's with the MoE blocks (or Qwen's dense MLP layers) as feed-forward."""
    cfg, sd = model.config, model.state_dict()
    arch = cfg["architectures"][0]

    def feed_forward(i, p, h):
        if arch == "MixtralForCausalLM":
            return literal_sparse_moe_block(sd, p + "block_sparse_moe.", cfg, h, mixtral=True)
        if qwen_moe_layer_is_sparse(cfg, i):
            return literal_sparse_moe_block(sd, p + "mlp.", cfg, h, mixtral=False)
        return _silu_mlp(sd, p + "mlp.", h)

    return hf_llama_logits(model, input_ids, feed_forward=feed_forward)


# --- DeepSeek remote code ---------------------------------------------------------------------------


def _yarn_find_correction_dim(num_rotations, dim, base=10000, max_position_embeddings=2048):
    return (dim * math.log(max_position_embeddings / (num_rotations * 2 * math.pi))) / (2 * math.log(base))


def _yarn_find_correction_range(low_rot, high_rot, dim, base=10000, max_position_embeddings=2048):
    low = math.floor(_yarn_find_correction_dim(low_rot, dim, base, max_position_embeddings))
    high = math.ceil(_yarn_find_correction_dim(high_rot, dim, base, max_position_embeddings))
    return max(low, 0), min(high, dim - 1)


def _yarn_get_mscale(scale=1, mscale=1):
    if scale <= 1:
        return 1.0
    return 0.1 * mscale * math.log(scale) + 1.0


def _yarn_linear_ramp_mask(min, max, dim):  # noqa: A002 (remote code's names)
    if min == max:
        max += 0.001
    linear_func = (torch.arange(dim, dtype=torch.float32) - min) / (max - min)
    return torch.clamp(linear_func, 0, 1)


def remote_cos_sin_cache(cfg, seq_len, dtype):
    """DeepseekV2RotaryEmbedding / DeepseekV2YarnRotaryEmbedding._set_cos_sin_cache(seq_len, dtype)."""
    dim, base = cfg["qk_rope_head_dim"], cfg["rope_theta"]
    rs = cfg.get("rope_scaling")
    if rs is None:
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        t = torch.arange(seq_len, dtype=inv_freq.dtype)
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)
    scaling_factor = rs["factor"]
    kw = {"original_max_position_embeddings": 4096, "beta_fast": 32, "beta_slow": 1, "mscale": 1, "mscale_all_dim": 0}
    kw.update({k: rs[k] for k in kw if k in rs})
    freq_extra = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    freq_inter = 1.0 / (scaling_factor * base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    low, high = _yarn_find_correction_range(kw["beta_fast"], kw["beta_slow"], dim, base,
                                            kw["original_max_position_embeddings"])
    inv_freq_mask = 1.0 - _yarn_linear_ramp_mask(low, high, dim // 2).to(dtype=torch.float32)
    inv_freq = freq_inter * (1 - inv_freq_mask) + freq_extra * inv_freq_mask
    t = torch.arange(seq_len, dtype=torch.float32)
    freqs = torch.outer(t, inv_freq)
    _mscale = float(_yarn_get_mscale(scaling_factor, kw["mscale"]) /
                    _yarn_get_mscale(scaling_factor, kw["mscale_all_dim"]))
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * _mscale).to(dtype), (emb.sin() * _mscale).to(dtype)


def remote_apply_rotary_pos_emb(q, k, cos, sin, position_ids, unsqueeze_dim=1):
    cos = cos[position_ids].unsqueeze(unsqueeze_dim)
    sin = sin[position_ids].unsqueeze(unsqueeze_dim)
    b, h, s, d = q.shape
    q = q.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    b, h, s, d = k.shape
    k = k.view(b, h, s, d // 2, 2).transpose(4, 3).reshape(b, h, s, d)
    q_embed = (q * cos) + (hf_rotate_half(q) * sin)
    k_embed = (k * cos) + (hf_rotate_half(k) * sin)
    return q_embed, k_embed


def remote_softmax_scale(cfg):
    softmax_scale = (cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]) ** (-0.5)
    if cfg.get("rope_scaling") is not None:
        mscale_all_dim = cfg["rope_scaling"].get("mscale_all_dim", 0)
        scaling_factor = cfg["rope_scaling"]["factor"]
        if mscale_all_dim:
            mscale = _yarn_get_mscale(scaling_factor, mscale_all_dim)
            softmax_scale = softmax_scale * mscale * mscale
    return softmax_scale


def remote_attention(sd, p, cfg, hidden_states, position_ids, attention_mask):
    """DeepseekV2Attention.forward (eager, no cache), verbatim apart from the module plumbing."""
    num_heads, nope, rope, v_dim = (cfg["num_attention_heads"], cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"],
                                    cfg["v_head_dim"])
    q_head_dim, kv_lora_rank = nope + rope, cfg["kv_lora_rank"]
    bsz, q_len, _ = hidden_states.size()
    if cfg["q_lora_rank"] is None:
        q = hf_linear(sd, p + "q_proj", hidden_states)
    else:
        q = hf_linear(sd, p + "q_b_proj", hf_rms_norm(hf_linear(sd, p + "q_a_proj", hidden_states),
                                             sd[p + "q_a_layernorm.weight"], 1e-6))
    q = q.view(bsz, q_len, num_heads, q_head_dim).transpose(1, 2)
    q_nope, q_pe = torch.split(q, [nope, rope], dim=-1)
    compressed_kv = hf_linear(sd, p + "kv_a_proj_with_mqa", hidden_states)
    compressed_kv, k_pe = torch.split(compressed_kv, [kv_lora_rank, rope], dim=-1)
    k_pe = k_pe.view(bsz, q_len, 1, rope).transpose(1, 2)
    kv = (hf_linear(sd, p + "kv_b_proj", hf_rms_norm(compressed_kv, sd[p + "kv_a_layernorm.weight"], 1e-6))
          .view(bsz, q_len, num_heads, nope + v_dim).transpose(1, 2))
    k_nope, value_states = torch.split(kv, [nope, v_dim], dim=-1)
    kv_seq_len = value_states.shape[-2]
    cos, sin = remote_cos_sin_cache(cfg, kv_seq_len, value_states.dtype)
    q_pe, k_pe = remote_apply_rotary_pos_emb(q_pe, k_pe, cos, sin, position_ids)
    query_states = k_pe.new_empty(bsz, num_heads, q_len, q_head_dim)
    query_states[:, :, :, :nope] = q_nope
    query_states[:, :, :, nope:] = q_pe
    key_states = k_pe.new_empty(bsz, num_heads, q_len, q_head_dim)
    key_states[:, :, :, :nope] = k_nope
    key_states[:, :, :, nope:] = k_pe
    attn_weights = torch.matmul(query_states, key_states.transpose(2, 3)) * remote_softmax_scale(cfg)
    attn_weights = attn_weights + attention_mask
    attn_weights = nn.functional.softmax(attn_weights, dim=-1, dtype=torch.float32).to(query_states.dtype)
    attn_output = torch.matmul(attn_weights, value_states)
    attn_output = attn_output.transpose(1, 2).contiguous().reshape(bsz, q_len, num_heads * v_dim)
    return hf_linear(sd, p + "o_proj", attn_output)


def remote_v2_gate(hidden_states, weight, cfg):
    """DeepSeek-V2(-Lite) MoEGate.forward (inference): softmax, greedy | group_limited_greedy."""
    top_k, n_group, n_routed_experts = cfg["num_experts_per_tok"], cfg["n_group"], cfg["n_routed_experts"]
    bsz, seq_len, h = hidden_states.shape
    hidden_states = hidden_states.view(-1, h)
    logits = F.linear(hidden_states.type(torch.float32), weight.type(torch.float32), None)
    scores = logits.softmax(dim=-1, dtype=torch.float32)
    if cfg["topk_method"] in ("greedy", "gready"):  # V2: "gready", V2-Lite: "greedy"
        topk_weight, topk_idx = torch.topk(scores, k=top_k, dim=-1, sorted=False)
    elif cfg["topk_method"] == "group_limited_greedy":
        group_scores = scores.view(bsz * seq_len, n_group, -1).max(dim=-1).values  # [n, n_group]
        group_idx = torch.topk(group_scores, k=cfg["topk_group"], dim=-1, sorted=False)[1]  # [n, top_k_group]
        group_mask = torch.zeros_like(group_scores)  # [n, n_group]
        group_mask.scatter_(1, group_idx, 1)  # [n, n_group]
        score_mask = (group_mask.unsqueeze(-1).expand(bsz * seq_len, n_group, n_routed_experts // n_group)
                      .reshape(bsz * seq_len, -1))  # [n, e]
        tmp_scores = scores.masked_fill(~score_mask.bool(), 0.0)  # [n, e]
        topk_weight, topk_idx = torch.topk(tmp_scores, k=top_k, dim=-1, sorted=False)
    if top_k > 1 and cfg["norm_topk_prob"]:
        denominator = topk_weight.sum(dim=-1, keepdim=True) + 1e-20
        topk_weight = topk_weight / denominator
    else:
        topk_weight = topk_weight * cfg["routed_scaling_factor"]
    return topk_idx, topk_weight


def remote_v3_gate(hidden_states, weight, e_score_correction_bias, cfg):
    """DeepSeek-V3 MoEGate.forward (inference): sigmoid, noaux_tc."""
    top_k, n_group, n_routed_experts = cfg["num_experts_per_tok"], cfg["n_group"], cfg["n_routed_experts"]
    bsz, seq_len, h = hidden_states.shape
    hidden_states = hidden_states.view(-1, h)
    logits = F.linear(hidden_states.type(torch.float32), weight.type(torch.float32), None)
    scores = logits.sigmoid()
    scores_for_choice = scores.view(bsz * seq_len, -1) + e_score_correction_bias.unsqueeze(0)
    group_scores = scores_for_choice.view(bsz * seq_len, n_group, -1).topk(2, dim=-1)[0].sum(dim=-1)  # [n, n_group]
    group_idx = torch.topk(group_scores, k=cfg["topk_group"], dim=-1, sorted=False)[1]  # [n, top_k_group]
    group_mask = torch.zeros_like(group_scores)  # [n, n_group]
    group_mask.scatter_(1, group_idx, 1)  # [n, n_group]
    score_mask = (group_mask.unsqueeze(-1).expand(bsz * seq_len, n_group, n_routed_experts // n_group)
                  .reshape(bsz * seq_len, -1))  # [n, e]
    tmp_scores = scores_for_choice.masked_fill(~score_mask.bool(), 0.0)  # [n, e]
    _, topk_idx = torch.topk(tmp_scores, k=top_k, dim=-1, sorted=False)
    topk_weight = scores.gather(1, topk_idx)
    if top_k > 1 and cfg["norm_topk_prob"]:
        denominator = topk_weight.sum(dim=-1, keepdim=True) + 1e-20
        topk_weight = topk_weight / denominator
    topk_weight = topk_weight * cfg["routed_scaling_factor"]  # must multiply the scaling factor
    return topk_idx, topk_weight


def remote_moe_infer(x, topk_ids, topk_weight, experts):
    """DeepseekV2MoE / DeepseekV3MoE.moe_infer with ep_size 1."""
    cnts = topk_ids.new_zeros((topk_ids.shape[0], len(experts)))
    cnts.scatter_(1, topk_ids, 1)
    tokens_per_expert = cnts.sum(dim=0)
    idxs = topk_ids.view(-1).argsort()
    sorted_tokens = x[torch.div(idxs, topk_ids.shape[1], rounding_mode="floor")]  # idxs // k
    tokens_per_expert = tokens_per_expert.cpu().numpy()
    outputs = []
    start_idx = 0
    for i, num_tokens in enumerate(tokens_per_expert):
        end_idx = start_idx + num_tokens
        if num_tokens == 0:
            continue
        expert_out = experts[i](sorted_tokens[start_idx:end_idx])
        outputs.append(expert_out)
        start_idx = end_idx
    outs = torch.cat(outputs, dim=0) if len(outputs) else sorted_tokens.new_empty(0)
    new_x = torch.empty_like(outs)
    new_x[idxs] = outs
    return (new_x.view(*topk_ids.shape, -1).type(topk_weight.dtype).mul_(topk_weight.unsqueeze(dim=-1))
            .sum(dim=1).type(new_x.dtype))


def remote_deepseek_moe(sd, p, cfg, hidden_states, version):
    """DeepseekV2MoE / DeepseekV3MoE.forward (inference)."""
    identity = hidden_states
    orig_shape = hidden_states.shape
    if version == 2:
        topk_idx, topk_weight = remote_v2_gate(hidden_states, sd[p + "gate.weight"], cfg)
    else:
        topk_idx, topk_weight = remote_v3_gate(hidden_states, sd[p + "gate.weight"],
                                               sd[p + "gate.e_score_correction_bias"], cfg)
    hidden_states = hidden_states.view(-1, hidden_states.shape[-1])
    experts = [lambda t, e=e: _silu_mlp(sd, f"{p}experts.{e}.", t) for e in range(cfg["n_routed_experts"])]
    y = remote_moe_infer(hidden_states, topk_idx, topk_weight, experts).view(*orig_shape)
    if cfg["n_shared_experts"] is not None:
        y = y + _silu_mlp(sd, p + "shared_experts.", identity)
    return y


def remote_deepseek_logits(model, input_ids):
    """DeepseekV2ForCausalLM / DeepseekV3ForCausalLM eager forward over one sequence (remote code)."""
    cfg = model.config
    sd = model.state_dict()
    version = 3 if cfg["architectures"][0] == "DeepseekV3ForCausalLM" else 2
    eps = cfg["rms_norm_eps"]
    length = input_ids.shape[0]
    x = F.embedding(input_ids[None], sd["model.embed_tokens.weight"])
    position_ids = torch.arange(length)[None]
    mask = hf_causal_mask(length, x.dtype)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        residual = x
        h = hf_rms_norm(x, sd[p + "input_layernorm.weight"], eps)
        x = residual + remote_attention(sd, p + "self_attn.", cfg, h, position_ids, mask)
        residual = x
        h = hf_rms_norm(x, sd[p + "post_attention_layernorm.weight"], eps)
        if deepseek_layer_is_moe(cfg, i):
            h = remote_deepseek_moe(sd, p + "mlp.", cfg, h, version)
        else:
            h = _silu_mlp(sd, p + "mlp.", h)
        x = residual + h
    x = hf_rms_norm(x, sd["model.norm.weight"], eps)
    return F.linear(x, sd["lm_head.weight"])[0].float()


MOE_LITERAL_LOGITS = {
    "MixtralForCausalLM": literal_rope_moe_logits,
    "Qwen2MoeForCausalLM": literal_rope_moe_logits,
    "Qwen3MoeForCausalLM": literal_rope_moe_logits,
    "DeepseekV2ForCausalLM": remote_deepseek_logits,
    "DeepseekV3ForCausalLM": remote_deepseek_logits,
}


def routing_margins(model, input_ids, positions):
    """Smallest gap (float32) between the k-th and (k+1)-th candidate of every router call of a forward:
    softmax routers compare probabilities, noaux_tc the bias-corrected scores (and its group choice)."""
    gaps = []

    def gap(scores, k):
        top = scores.topk(k + 1, dim=-1).values
        return float((top[:, k - 1] - top[:, k]).min())

    def sparse_hook(block, inputs, _):
        probs = F.softmax(block.gate(inputs[0]).float(), dim=-1)
        gaps.append(gap(probs, block.top_k))

    def gate_hook(gate, inputs, _):
        scores = F.linear(inputs[0].float(), gate.weight.float())
        scores = scores.softmax(-1) if gate.scoring_func == "softmax" else scores.sigmoid()
        if gate.topk_method == "noaux_tc":
            choice = scores + gate.e_score_correction_bias.float()
            groups = choice.view(-1, gate.n_group, gate.n_routed_experts // gate.n_group).topk(2, dim=-1)[0].sum(-1)
            gaps.append(gap(groups, gate.topk_group))
            gaps.append(gap(choice, gate.top_k))  # over all experts: a lower bound of the in-group gap
        else:
            gaps.append(gap(scores, gate.top_k))

    hooks = [m.register_forward_hook(sparse_hook if isinstance(m, SparseMoeBlock) else gate_hook)
             for m in model.modules() if isinstance(m, (SparseMoeBlock, MoEGate))]
    try:
        with torch.no_grad():
            model(input_ids, positions)
    finally:
        for h in hooks:
            h.remove()
    return gaps


# ------------------------------------------------------------------------------------------------


class MoeLiteralTest(unittest.TestCase):
    def test_models_match_literal_code(self):
        ids, pos = sequence(12, seed=3)
        for arch in MOE_ARCHS:
            for dtype, rel in ((torch.float32, 2e-6), (torch.bfloat16, 2e-3)):
                for impl in ("dense", "hf"):
                    with self.subTest(arch=arch, dtype=dtype, impl=impl):
                        model = tiny_model(arch, dtype).set_moe_impl(impl)
                        assert_close(self, model(ids, pos), MOE_LITERAL_LOGITS[arch](model, ids), rel, f"{arch} {impl}")

    def test_deepseek_variants_match_remote_code(self):
        """q_lora_rank on V2, group_limited_greedy with/without norm, no rope scaling, cos/sin mscale != 1,
        attention biases, moe_layer_freq and no shared experts."""
        ids, pos = sequence(10, seed=4)
        cases = [
            ("DeepseekV2ForCausalLM", {"q_lora_rank": 24, "topk_method": "group_limited_greedy", "n_group": 4,
                                       "topk_group": 2, "attention_bias": True}),
            ("DeepseekV2ForCausalLM", {"topk_method": "group_limited_greedy", "n_group": 2, "topk_group": 1,
                                       "norm_topk_prob": True, "routed_scaling_factor": 16.0, "rope_scaling": None}),
            ("DeepseekV2ForCausalLM", {"topk_method": "gready", "n_shared_experts": None, "moe_layer_freq": 2,
                                       "first_k_dense_replace": 0, "num_experts_per_tok": 3}),
            ("DeepseekV3ForCausalLM", {"q_lora_rank": None, "norm_topk_prob": False, "rope_scaling": {
                "type": "yarn", "factor": 40, "original_max_position_embeddings": 8, "beta_fast": 32, "beta_slow": 1,
                "mscale": 1.0, "mscale_all_dim": 0.707}}),
            ("DeepseekV3ForCausalLM", {"n_group": 2, "topk_group": 1, "num_experts_per_tok": 3}),
        ]
        for arch, overrides in cases:
            with self.subTest(arch=arch, overrides=overrides):
                model = tiny_model(arch, **overrides)
                assert_close(self, model(ids, pos), remote_deepseek_logits(model, ids), 2e-6, arch)

    def test_routing_is_clear(self):
        """Tiny presets route with clear decisions: no near-ties in float32 on a 32-token prompt."""
        ids, pos = sequence(32, seed=11)
        for arch in MOE_ARCHS:
            gaps = routing_margins(tiny_model(arch), ids, pos)
            self.assertTrue(gaps)
            self.assertGreater(min(gaps), 2e-5, arch)  # float32 noise is ~1e-7


class MoeRoutingTest(unittest.TestCase):
    """Routing and expert combine against the remote/HF code with random inputs, many configurations."""

    def _gate_cfg(self, **kw):
        cfg = {"num_experts_per_tok": 3, "n_routed_experts": 16, "n_group": 4, "topk_group": 2, "hidden_size": 32,
               "norm_topk_prob": False, "routed_scaling_factor": 2.0, "scoring_func": "softmax",
               "topk_method": "greedy"}
        cfg.update(kw)
        return cfg

    def _gate(self, cfg, version, generator):
        gate = MoEGate(cfg, version)
        with torch.no_grad():
            gate.weight.copy_(torch.randn(gate.weight.shape, generator=generator))
            if hasattr(gate, "e_score_correction_bias"):
                gate.e_score_correction_bias.copy_(torch.randn(16, generator=generator) * 0.3)  # both signs
        return gate

    def test_gates_match_remote_code(self):
        generator = torch.Generator().manual_seed(0)
        cases = [(2, {}), (2, {"topk_method": "gready"}), (2, {"norm_topk_prob": True}),
                 (2, {"topk_method": "group_limited_greedy"}),
                 (2, {"topk_method": "group_limited_greedy", "norm_topk_prob": True, "topk_group": 1}),
                 (3, {"topk_method": "noaux_tc", "scoring_func": "sigmoid", "norm_topk_prob": True}),
                 (3, {"topk_method": "noaux_tc", "scoring_func": "sigmoid", "norm_topk_prob": False}),
                 (3, {"topk_method": "noaux_tc", "scoring_func": "sigmoid", "n_group": 8, "topk_group": 3})]
        for version, kw in cases:
            cfg = self._gate_cfg(**kw)
            for dtype in (torch.float32, torch.bfloat16):
                with self.subTest(version=version, cfg=kw, dtype=dtype):
                    gate = self._gate(cfg, version, generator).to(dtype)
                    x = torch.randn(1, 40, 32, generator=generator).to(dtype)
                    if version == 2:
                        want_idx, want_w = remote_v2_gate(x, gate.weight, cfg)
                    else:
                        want_idx, want_w = remote_v3_gate(x, gate.weight, gate.e_score_correction_bias, cfg)
                    idx, w, dense = gate(x[0])
                    self.assertTrue(torch.equal(idx, want_idx))
                    self.assertTrue(torch.equal(w, want_w))
                    self.assertEqual(w.dtype, torch.float32)
                    want_dense = torch.zeros(40, 16).scatter(1, want_idx, want_w)
                    self.assertTrue(torch.equal(dense, want_dense))

    def test_noaux_tc_masks_with_zero_not_minus_inf(self):
        """Masked experts score 0.0: with a strongly negative correction bias an expert of a rejected group
        beats the selected groups' (negative) candidates, exactly as the remote code does."""
        cfg = self._gate_cfg(topk_method="noaux_tc", scoring_func="sigmoid", num_experts_per_tok=2, n_group=4,
                             topk_group=1, n_routed_experts=16)
        gate = MoEGate(cfg, 3)
        with torch.no_grad():
            gate.weight.zero_()  # every sigmoid score is 0.5
            gate.e_score_correction_bias.copy_(torch.full((16,), -2.0))
            gate.e_score_correction_bias[0] = -0.1  # group 0 wins (top-2 sum 0.4 - 1.5; others -3.0)
        idx, _, _ = gate(torch.zeros(1, 32))
        want, _ = remote_v3_gate(torch.zeros(1, 1, 32), gate.weight, gate.e_score_correction_bias, cfg)
        self.assertTrue(torch.equal(idx, want))
        self.assertIn(0, idx[0].tolist())
        self.assertTrue(any(e >= 4 for e in idx[0].tolist()), "an expert outside group 0 (score 0.0) is chosen")

    def test_hf_loop_equals_dense(self):
        """One token: bit-identical (every GEMM has M = 1). Many tokens: the only difference is GEMM rows
        computed in other batch sizes by the CPU BLAS (ulp level in float32)."""
        for arch in MOE_ARCHS:
            for dtype in (torch.float32, torch.bfloat16):
                with self.subTest(arch=arch, dtype=dtype):
                    model = tiny_model(arch, dtype)
                    blocks = [m for m in model.modules() if isinstance(m, (SparseMoeBlock, DeepseekMoE))]
                    x = torch.randn(20, 64, generator=torch.Generator().manual_seed(1)).to(dtype)
                    for block in blocks:
                        outs = {}
                        for impl in ("dense", "hf"):
                            block.moe_impl = impl
                            outs[impl] = (block(x[:1]), block(x))
                        block.moe_impl = "dense"
                        self.assertTrue(torch.equal(outs["dense"][0], outs["hf"][0]))
                        assert_close(self, outs["dense"][1], outs["hf"][1], 1e-6 if dtype == torch.float32 else 1e-2)

    def test_deepseek_moe_matches_moe_infer(self):
        """DeepseekMoE (both spellings) against the remote moe_infer (argsort, cat, scatter, float32 sum)."""
        for arch in DEEPSEEK_ARCHS:
            model = tiny_model(arch)
            block = model.model.layers[1].mlp
            cfg = model.config
            x = torch.randn(1, 24, 64, generator=torch.Generator().manual_seed(2))
            want = remote_deepseek_moe(model.state_dict(), "model.layers.1.mlp.", cfg, x, 3 if "V3" in arch else 2)[0]
            for impl in ("dense", "hf"):
                block.moe_impl = impl
                assert_close(self, block(x[0]), want, 1e-6, f"{arch} {impl}")


class MoeLayoutTest(unittest.TestCase):
    REAL_COUNTS = {"mixtral_8x7b": 46702792704, "qwen3_30b_a3b": 30532122624, "deepseek_v2_lite": 15706484224}

    @staticmethod
    def meta_count(config, num_layers=None):
        """Checkpoint parameter count of the reference model built on the meta device."""
        config = dict(config, **({} if num_layers is None else {"num_hidden_layers": num_layers}))
        with meta_device():  # the class itself: build_model's .to(dtype) is pointless on meta
            model = MODEL_CLASSES[architecture_of(config)](config)
        assert model.lm_head.weight.is_meta
        return sum(t.numel() for t in model.checkpoint_state_dict().values())

    def test_parameter_counts_of_real_configs(self):
        """Layers after the dense prefix are all alike (checked), so the count of the full model is
        count(P + 1 layers) + (L - P - 1) * (count(P + 2) - count(P + 1)); Mixtral is also built whole."""
        for name, want in self.REAL_COUNTS.items():
            with self.subTest(config=name):
                with open(os.path.join(SHARED_CONFIGS, name, "config.json")) as f:
                    config = json.load(f)
                cfg = resolve_config(config)
                layers = cfg["num_hidden_layers"]
                if cfg["architectures"][0] == "MixtralForCausalLM":
                    kinds = [True] * layers
                elif "deepseek" in cfg["model_type"]:
                    kinds = [deepseek_layer_is_moe(cfg, i) for i in range(layers)]
                else:
                    kinds = [qwen_moe_layer_is_sparse(cfg, i) for i in range(layers)]
                prefix = kinds.index(True)
                self.assertTrue(all(kinds[prefix:]))
                one, two = self.meta_count(config, prefix + 1), self.meta_count(config, prefix + 2)
                self.assertEqual(one + (layers - prefix - 1) * (two - one), want)
                if name == "mixtral_8x7b":
                    self.assertEqual(self.meta_count(config), want)

    def test_real_layouts(self):
        with open(os.path.join(SHARED_CONFIGS, "deepseek_v2_lite", "config.json")) as f:
            config = json.load(f)
        config["num_hidden_layers"] = 2  # same layer kinds, cheaper
        with meta_device():
            model = build_model(config)
        shapes = {n: tuple(t.shape) for n, t in model.checkpoint_state_dict().items()}
        self.assertEqual(shapes["model.layers.0.self_attn.q_proj.weight"], (16 * 192, 2048))
        self.assertEqual(shapes["model.layers.0.self_attn.kv_a_proj_with_mqa.weight"], (576, 2048))
        self.assertEqual(shapes["model.layers.0.self_attn.kv_b_proj.weight"], (16 * 256, 512))
        self.assertEqual(shapes["model.layers.0.mlp.gate_proj.weight"], (10944, 2048))
        self.assertEqual(shapes["model.layers.1.mlp.gate.weight"], (64, 2048))
        self.assertEqual(shapes["model.layers.1.mlp.experts.63.down_proj.weight"], (2048, 1408))
        self.assertEqual(shapes["model.layers.1.mlp.shared_experts.up_proj.weight"], (2816, 2048))
        self.assertNotIn("model.layers.1.mlp.gate.e_score_correction_bias", shapes)
        self.assertAlmostEqual(model.model.layers[0].self_attn.scaling,
                               192 ** -0.5 * (0.1 * 0.707 * math.log(40) + 1) ** 2, places=12)
        # Real yarn tables (dim 64, factor 40, original 4096; V3: mscale 1.0/1.0) equal the remote cos/sin cache.
        with open(os.path.join(REPO_CONFIGS, "deepseek_v3", "config.json")) as f:
            v3 = json.load(f)
        positions = torch.tensor([0, 1, 17, 4095, 4096, 4999])
        for cfg in (model.config, resolve_config(v3)):
            rotary = DeepseekRotaryEmbedding(*deepseek_rotary_tables(cfg))
            for dtype in (torch.float32, torch.bfloat16):
                cos, sin = rotary(positions, dtype)
                want_cos, want_sin = remote_cos_sin_cache(cfg, 5000, dtype)
                self.assertTrue(torch.equal(cos, want_cos[positions]) and torch.equal(sin, want_sin[positions]))

    def test_tiny_checkpoint_names(self):
        want = {
            "MixtralForCausalLM": {
                "model.layers.1.block_sparse_moe.gate.weight": (8, 64),
                "model.layers.1.block_sparse_moe.experts.7.w1.weight": (32, 64),
                "model.layers.1.block_sparse_moe.experts.7.w2.weight": (64, 32),
                "model.layers.1.block_sparse_moe.experts.7.w3.weight": (32, 64),
                "model.layers.0.self_attn.k_proj.weight": (32, 64)},
            "Qwen2MoeForCausalLM": {
                "model.layers.0.mlp.gate_proj.weight": (96, 64),
                "model.layers.1.mlp.gate.weight": (8, 64),
                "model.layers.1.mlp.experts.0.up_proj.weight": (32, 64),
                "model.layers.1.mlp.shared_expert.down_proj.weight": (64, 64),
                "model.layers.1.mlp.shared_expert_gate.weight": (1, 64),
                "model.layers.1.self_attn.q_proj.bias": (64,)},
            "Qwen3MoeForCausalLM": {
                "model.layers.0.mlp.experts.3.gate_proj.weight": (32, 64),
                "model.layers.1.mlp.down_proj.weight": (64, 96),
                "model.layers.2.mlp.gate.weight": (8, 64),
                "model.layers.0.self_attn.q_proj.weight": (128, 64),
                "model.layers.0.self_attn.q_norm.weight": (32,)},
            "DeepseekV2ForCausalLM": {
                "model.layers.0.self_attn.q_proj.weight": (96, 64),
                "model.layers.0.self_attn.kv_a_proj_with_mqa.weight": (40, 64),
                "model.layers.0.self_attn.kv_a_layernorm.weight": (32,),
                "model.layers.0.self_attn.kv_b_proj.weight": (128, 32),
                "model.layers.0.self_attn.o_proj.weight": (64, 64),
                "model.layers.0.mlp.gate_proj.weight": (96, 64),
                "model.layers.1.mlp.gate.weight": (8, 64),
                "model.layers.2.mlp.experts.7.down_proj.weight": (64, 32),
                "model.layers.2.mlp.shared_experts.gate_proj.weight": (64, 64)},
            "DeepseekV3ForCausalLM": {
                "model.layers.0.self_attn.q_a_proj.weight": (32, 64),
                "model.layers.0.self_attn.q_a_layernorm.weight": (32,),
                "model.layers.0.self_attn.q_b_proj.weight": (96, 32),
                "model.layers.1.mlp.gate.e_score_correction_bias": (8,),
                "model.layers.1.mlp.shared_experts.up_proj.weight": (32, 64)},
        }
        absent = {"Qwen3MoeForCausalLM": ["model.layers.0.mlp.shared_expert_gate.weight",
                                          "model.layers.0.self_attn.q_proj.bias"],
                  "DeepseekV2ForCausalLM": ["model.layers.1.mlp.gate.e_score_correction_bias",
                                            "model.layers.0.self_attn.q_a_proj.weight",
                                            "model.layers.0.self_attn.rotary_emb.inv_freq"],
                  "DeepseekV3ForCausalLM": ["model.layers.0.self_attn.q_proj.weight", "model.layers.3.mlp.gate.weight",
                                            "model.layers.0.mlp.gate.weight"]}
        for arch in MOE_ARCHS:
            with self.subTest(arch=arch):
                model = tiny_model(arch)
                shapes = {n: tuple(t.shape) for n, t in model.checkpoint_state_dict().items()}
                for name, shape in want[arch].items():
                    self.assertEqual(shapes.get(name), shape, name)
                for name in absent.get(arch, []):
                    self.assertNotIn(name, shapes)
                logits = model(*sequence(5))
                self.assertEqual((tuple(logits.shape), logits.dtype), ((5, 250), torch.float32))

    def test_layer_patterns(self):
        cfg = tiny_config("qwen2_moe", overrides={"num_hidden_layers": 6, "decoder_sparse_step": 2,
                                                  "mlp_only_layers": [3]})
        self.assertEqual([qwen_moe_layer_is_sparse(cfg, i) for i in range(6)], [False, True, False, False, False, True])
        cfg = tiny_config("deepseek_v2", overrides={"num_hidden_layers": 6, "first_k_dense_replace": 1,
                                                    "moe_layer_freq": 2})
        self.assertEqual([deepseek_layer_is_moe(cfg, i) for i in range(6)], [False, False, True, False, True, False])
        self.assertEqual(tiny_config("qwen3_moe")["mlp_only_layers"], [1])
        self.assertEqual(tiny_config("qwen2_moe", overrides={"mlp_only_layers": None})["mlp_only_layers"], [])
        with self.assertRaises(NotImplementedError):
            build_model(tiny_config("qwen2_moe", overrides={"use_sliding_window": True, "sliding_window": 8}))


class MoeCacheTraceTest(unittest.TestCase):
    def test_cache_matches_forward_and_generation(self):
        ids, pos = sequence(14, seed=5)
        for arch in MOE_ARCHS:
            with self.subTest(arch=arch):
                model = tiny_model(arch)
                k_cache, v_cache = model.new_kv_cache(24)
                self.assertEqual(tuple(k_cache.shape), model.kv_cache_shape(24))
                rows = [model.forward_with_cache(ids[:6], pos[:6], k_cache, v_cache)]
                rows += [model.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache) for i in range(6, 14)]
                assert_close(self, torch.cat(rows), model(ids, pos), 1e-5, arch)
                self.assertEqual(float(k_cache[:, 14:].abs().sum()) + float(v_cache[:, 14:].abs().sum()), 0.0)
                k_cache, v_cache = model.new_kv_cache(16)
                self.assertEqual(greedy_generate_with_cache(model, ids[:4].tolist(), 10, k_cache, v_cache)[0],
                                 greedy_generate(model, ids[:4].tolist(), 10)[0])
        v3 = tiny_model("DeepseekV3ForCausalLM")
        self.assertEqual(v3.kv_cache_shape(24), (3, 24, 1, 32))  # normalized latent c_kv
        self.assertEqual(v3.v_cache_shape(24), (3, 24, 1, 8))  # rotated k_pe

    def test_mla_cache_bf16(self):
        """bf16 latent cache without routing (all layers dense): MoE routes may legitimately flip at bf16
        near-ties between the cached and the full forward, the attention path may not drift."""
        ids, pos = sequence(12, seed=2)
        for arch in DEEPSEEK_ARCHS:
            model = tiny_model(arch, torch.bfloat16, first_k_dense_replace=3)
            k_cache, v_cache = model.new_kv_cache(20)
            self.assertEqual(k_cache.dtype, torch.bfloat16)
            rows = [model.forward_with_cache(ids[:7], pos[:7], k_cache, v_cache)]
            rows += [model.forward_with_cache(ids[i:i + 1], pos[i:i + 1], k_cache, v_cache) for i in range(7, 12)]
            assert_close(self, torch.cat(rows), model(ids, pos), 2e-2, arch)

    def test_hf_loop_trace_does_not_generalize(self):
        """Documents why the dense spelling exists: a trace of HF's loop keeps only the experts hit by the
        example input (the Python loop over nonzero() and experts[int(idx)] are unrolled)."""
        for arch in ("MixtralForCausalLM", "DeepseekV3ForCausalLM"):
            with self.subTest(arch=arch):
                model = tiny_model(arch, num_hidden_layers=2).set_moe_impl("hf")
                ids1, pos1 = sequence(1, seed=1)
                with torch.no_grad():
                    traced = torch.jit.trace(model, (ids1, pos1), check_trace=False)
                ids, pos = sequence(10, seed=3)
                try:
                    got = traced(ids, pos)
                except RuntimeError:  # Mixtral: the unrolled loop also baked in the example's list sizes
                    continue
                self.assertFalse(torch.allclose(got, model(ids, pos), atol=1e-3))


class MoeCheckpointCliTest(TempDirMixin, unittest.TestCase):
    def test_save_load_strict_and_mtp(self):
        model = tiny_model("DeepseekV3ForCausalLM")
        out = os.path.join(self.tmp, "v3")
        save_model(model, out, torch.float32, num_shards=2)
        self.assertEqual(set(st.load_checkpoint(out)), set(model.checkpoint_state_dict()))
        loaded = load_model(out)
        ids, pos = sequence(6)
        self.assertTrue(torch.equal(loaded(ids, pos), model(ids, pos)))
        tensors = dict(model.checkpoint_state_dict())
        # V3 checkpoints carry num_nextn_predict_layers MTP layers after the last layer: skipped.
        mtp = {"model.layers.3.eh_proj.weight": torch.zeros(64, 128), "model.layers.3.enorm.weight": torch.ones(64),
               "model.layers.3.mlp.experts.0.up_proj.weight": torch.zeros(32, 64)}
        load_weights(tiny_model("DeepseekV3ForCausalLM", seed=1), {**tensors, **mtp})
        with self.assertRaisesRegex(ValueError, "unexpected 1"):
            load_weights(tiny_model("DeepseekV3ForCausalLM"), {**tensors, "model.layers.4.enorm.weight": torch.ones(64)})
        with self.assertRaisesRegex(ValueError, "unexpected 1"):  # V2 has no MTP layers
            v2 = tiny_model("DeepseekV2ForCausalLM")
            load_weights(v2, {**v2.checkpoint_state_dict(), "model.layers.3.enorm.weight": torch.ones(64)})
        with self.assertRaisesRegex(ValueError, "missing 1"):
            load_weights(tiny_model("DeepseekV3ForCausalLM"),
                         {k: v for k, v in tensors.items() if k != "model.layers.2.mlp.gate.e_score_correction_bias"})

    def test_cli(self):
        for name, arch in (("mixtral", "MixtralForCausalLM"), ("qwen2_moe", "Qwen2MoeForCausalLM"),
                           ("qwen3_moe", "Qwen3MoeForCausalLM"), ("deepseek_v2", "DeepseekV2ForCausalLM"),
                           ("DeepseekV3ForCausalLM", "DeepseekV3ForCausalLM")):
            with self.subTest(arch=name):
                out = os.path.join(self.tmp, name)
                code, _ = run_main(make_tiny_model.main, [name, out, "--dtype", "bf16", "--seed", "2"])
                self.assertEqual(code, 0)
                with open(os.path.join(out, "config.json")) as f:
                    self.assertEqual(json.load(f)["architectures"], [arch])
                if name not in ("qwen2_moe", "deepseek_v2"):  # one softmax MoE, one MLA model suffice
                    continue
                argv = [out, "--prompt-ids", "5,17,42", "--max-new-tokens", "6", "--json"]
                full = json.loads(run_main(run_reference.main, argv)[1])
                cached = json.loads(run_main(run_reference.main, argv + ["--kv-cache"])[1])
                self.assertEqual(full["tokens"], cached["tokens"])
                torch.testing.assert_close(torch.tensor(cached["logits"]), torch.tensor(full["logits"]),
                                           rtol=1e-5, atol=1e-5)
        out = os.path.join(self.tmp, "deepseek_v2")
        pt = os.path.join(self.tmp, "v2.pt")
        code, text = run_main(trace_model.main, [out, pt, "--with-cache", "20"])
        self.assertEqual(code, 0, text)
        extra = {"config.json": "", "vgcu_ref.json": ""}
        traced = torch.jit.load(pt, _extra_files=extra)
        meta = json.loads(extra["vgcu_ref.json"])
        self.assertEqual((meta["kv_cache_shape"], meta.get("v_cache_shape")), ([3, 20, 1, 32], [3, 20, 1, 8]))
        ids = torch.tensor([5, 17, 42, 7, 9, 11, 200, 3, 4, 5, 6])
        assert_close(self, traced(ids, torch.arange(11)), load_model(out)(ids, torch.arange(11)), 1e-5, "saved trace")


if __name__ == "__main__":
    torch.set_num_threads(1)
    unittest.main(verbosity=2)
