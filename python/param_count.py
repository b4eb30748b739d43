#!/usr/bin/env python3
"""Exact parameter count of a Hugging Face causal LM, derived from its config.json.

The count follows the module shapes of each architecture's Hugging Face modeling
code (transformers, or the model repository's remote code):

* every ``nn.Parameter`` is counted once; tied input/output embeddings once;
* buffers are not parameters (rotary ``inv_freq``, ChatGLM's rotary cache, ...);
* DeepSeek-V3 multi-token-prediction (MTP) layers -- checkpoint layers with index
  ``>= num_hidden_layers``, ``num_nextn_predict_layers`` of them -- are not part of
  the HF model; they are reported separately as ``mtp`` (their unique parameters,
  i.e. without the embedding and output head they share with the main model);
* quantization_config is ignored: the count is the one of the unquantized module
  shapes (what ``sum(p.numel() for p in model.parameters())`` gives for the
  model built from the config without quantization).

Standalone: only the standard library.  Usage::

    python3 python/param_count.py test/data/configs/*/config.json
    python3 python/param_count.py --check test/data/configs   # compare with README table
"""

import argparse
import json
import os
import re
import sys


def _get(cfg, *names, default=None):
    for n in names:
        if n in cfg and cfg[n] is not None:
            return cfg[n]
    return default


def _linear(out_f, in_f, bias=False):
    return out_f * in_f + (out_f if bias else 0)


def _embed_and_head(cfg, vocab, hidden, tie_default):
    tie = cfg.get("tie_word_embeddings", tie_default)
    if tie is None:
        tie = tie_default
    return vocab * hidden * (1 if tie else 2)


def _gated_mlp(hidden, inter, bias=False):
    # gate_proj + up_proj [inter, hidden], down_proj [hidden, inter]
    return 2 * _linear(inter, hidden, bias) + _linear(hidden, inter, bias)


def _gqa_attention(cfg, hidden, heads, kv_heads, head_dim, qkv_bias, o_bias):
    return (_linear(heads * head_dim, hidden, qkv_bias)
            + 2 * _linear(kv_heads * head_dim, hidden, qkv_bias)
            + _linear(hidden, heads * head_dim, o_bias))


def _common(cfg):
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = _get(cfg, "num_key_value_heads", default=heads)
    head_dim = _get(cfg, "head_dim", default=hidden // heads)
    return hidden, heads, kv_heads, head_dim


# ---------------------------------------------------------------- architectures

def count_llama_like(cfg, qkv_bias=None, o_bias=None, tie_default=False,
                     norms_per_layer=2, qk_norm=False):
    """Llama, Mistral, Qwen2, Qwen3, Gemma, Gemma2, InternLM2, Baichuan 1/2.

    InternLM2's packed wqkv and Baichuan's W_pack have the same element count as
    separate q/k/v projections; Baichuan 2's NormHead is a plain [vocab, hidden]
    weight.
    """
    hidden, heads, kv_heads, head_dim = _common(cfg)
    layers = cfg["num_hidden_layers"]
    inter = cfg["intermediate_size"]
    attn_bias = bool(_get(cfg, "attention_bias", "bias", default=False))
    qb = attn_bias if qkv_bias is None else qkv_bias
    ob = attn_bias if o_bias is None else o_bias
    mlp_bias = bool(cfg.get("mlp_bias", False))
    per_layer = (_gqa_attention(cfg, hidden, heads, kv_heads, head_dim, qb, ob)
                 + _gated_mlp(hidden, inter, mlp_bias)
                 + norms_per_layer * hidden
                 + (2 * head_dim if qk_norm else 0))
    total = (layers * per_layer + hidden
             + _embed_and_head(cfg, cfg["vocab_size"], hidden, tie_default))
    return {"total": total}


def count_phi3(cfg):
    """Phi-3 / Phi-3.5 mini: packed qkv_proj [(H+2KV)*hd, h], gate_up_proj [2I, h]."""
    hidden, heads, kv_heads, head_dim = _common(cfg)
    inter = cfg["intermediate_size"]
    per_layer = (_linear((heads + 2 * kv_heads) * head_dim, hidden)
                 + _linear(hidden, heads * head_dim)
                 + _linear(2 * inter, hidden) + _linear(hidden, inter)
                 + 2 * hidden)
    total = (cfg["num_hidden_layers"] * per_layer + hidden
             + _embed_and_head(cfg, cfg["vocab_size"], hidden, False))
    return {"total": total}


def _qwen_moe_layer_is_sparse(cfg, i):
    mlp_only = cfg.get("mlp_only_layers") or []
    step = cfg.get("decoder_sparse_step", 1) or 1
    return (i not in mlp_only) and cfg.get("num_experts", 0) > 0 and (i + 1) % step == 0


def count_qwen_moe(cfg, qwen3):
    """Qwen2-MoE (Qwen1.5-MoE, Qwen2-57B-A14B) and Qwen3-MoE.

    Qwen2-MoE: q/k/v biases, shared_expert (gated MLP of
    shared_expert_intermediate_size) and shared_expert_gate [1, hidden].
    Qwen3-MoE: no biases (attention_bias), q_norm/k_norm [head_dim], no shared expert.
    Router gate: [num_experts, hidden], no bias.
    """
    hidden, heads, kv_heads, head_dim = _common(cfg)
    if qwen3:
        qb = ob = bool(cfg.get("attention_bias", False))
    else:
        qb, ob = True, False
    attn = _gqa_attention(cfg, hidden, heads, kv_heads, head_dim, qb, ob)
    if qwen3:
        attn += 2 * head_dim
    experts = cfg["num_experts"]
    moe_inter = cfg["moe_intermediate_size"]
    sparse = experts * hidden + experts * _gated_mlp(hidden, moe_inter)
    if not qwen3:
        shared_inter = cfg.get("shared_expert_intermediate_size", 0) or 0
        if shared_inter:
            sparse += _gated_mlp(hidden, shared_inter) + hidden
    dense = _gated_mlp(hidden, cfg["intermediate_size"])
    total = hidden + _embed_and_head(cfg, cfg["vocab_size"], hidden, False)
    for i in range(cfg["num_hidden_layers"]):
        mlp = sparse if _qwen_moe_layer_is_sparse(cfg, i) else dense
        total += attn + mlp + 2 * hidden
    return {"total": total}


def count_mixtral(cfg):
    """Mixtral: block_sparse_moe.gate [E, h] + E experts of w1/w3 [I, h], w2 [h, I]."""
    hidden, heads, kv_heads, head_dim = _common(cfg)
    experts = cfg["num_local_experts"]
    inter = cfg["intermediate_size"]
    per_layer = (_gqa_attention(cfg, hidden, heads, kv_heads, head_dim, False, False)
                 + experts * hidden + experts * _gated_mlp(hidden, inter)
                 + 2 * hidden)
    total = (cfg["num_hidden_layers"] * per_layer + hidden
             + _embed_and_head(cfg, cfg["vocab_size"], hidden, False))
    return {"total": total}


def count_chatglm(cfg):
    """ChatGLM2/3, GLM-4 (THUDM remote code, model_type "chatglm").

    embedding.word_embeddings [padded_vocab, h]; per layer input_layernorm,
    self_attention.query_key_value [(H + 2*groups)*kv_channels, h] (bias if
    add_bias_linear or add_qkv_bias), dense [h, H*kv_channels] (bias if
    add_bias_linear), post_attention_layernorm, mlp.dense_h_to_4h [2*ffn, h],
    dense_4h_to_h [h, ffn]; final_layernorm; output_layer [padded_vocab, h].
    RMSNorm has a weight only, LayerNorm weight + bias.  The rotary inv_freq is a
    buffer.
    """
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_channels = _get(cfg, "kv_channels", default=hidden // heads)
    groups = cfg["multi_query_group_num"] if cfg.get("multi_query_attention") else heads
    ffn = cfg["ffn_hidden_size"]
    add_bias = bool(cfg.get("add_bias_linear", False))
    qkv_bias = add_bias or bool(cfg.get("add_qkv_bias", False))
    norm = hidden if cfg.get("rmsnorm", True) else 2 * hidden
    per_layer = (norm
                 + _linear((heads + 2 * groups) * kv_channels, hidden, qkv_bias)
                 + _linear(hidden, heads * kv_channels, add_bias)
                 + norm
                 + _linear(2 * ffn, hidden, add_bias) + _linear(hidden, ffn, add_bias))
    vocab = cfg["padded_vocab_size"]
    layers = _get(cfg, "num_layers", "num_hidden_layers")
    total = (layers * per_layer
             + (norm if cfg.get("post_layer_norm", True) else 0)
             + _embed_and_head(cfg, vocab, hidden, False))
    return {"total": total}


def count_gpt2(cfg):
    """GPT-2: wte, wpe, per block ln_1/ln_2 (w+b), c_attn, c_proj, mlp c_fc/c_proj
    (Conv1D with bias); ln_f; lm_head tied to wte."""
    h = cfg["n_embd"]
    inner = _get(cfg, "n_inner", default=4 * h)
    per_layer = (2 * h + (h * 3 * h + 3 * h) + (h * h + h)
                 + 2 * h + (h * inner + inner) + (inner * h + h))
    total = (cfg["vocab_size"] * h + cfg["n_positions"] * h
             + cfg["n_layer"] * per_layer + 2 * h)
    if cfg.get("tie_word_embeddings", True) is False:
        total += cfg["vocab_size"] * h
    return {"total": total}


def _deepseek_decoder_layer(cfg, i, v3):
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    nope, rope = cfg["qk_nope_head_dim"], cfg["qk_rope_head_dim"]
    v_dim = cfg["v_head_dim"]
    kv_lora = cfg["kv_lora_rank"]
    q_lora = cfg.get("q_lora_rank")
    bias = bool(cfg.get("attention_bias", False))
    q_head = nope + rope
    if q_lora is None:
        attn = _linear(heads * q_head, hidden)
    else:
        attn = (_linear(q_lora, hidden, bias) + q_lora          # q_a_proj, q_a_layernorm
                + _linear(heads * q_head, q_lora))              # q_b_proj
    attn += (_linear(kv_lora + rope, hidden, bias) + kv_lora    # kv_a_proj_with_mqa, kv_a_layernorm
             + _linear(heads * (nope + v_dim), kv_lora)         # kv_b_proj
             + _linear(hidden, heads * v_dim, bias))            # o_proj
    n_routed = cfg.get("n_routed_experts")
    freq = cfg.get("moe_layer_freq", 1) or 1
    if n_routed is not None and i >= cfg.get("first_k_dense_replace", 0) and i % freq == 0:
        moe_inter = cfg["moe_intermediate_size"]
        mlp = n_routed * _gated_mlp(hidden, moe_inter) + n_routed * hidden  # experts + gate.weight
        if v3 and cfg.get("topk_method") == "noaux_tc":
            mlp += n_routed                                                  # gate.e_score_correction_bias
        shared = cfg.get("n_shared_experts")
        if shared:
            mlp += _gated_mlp(hidden, moe_inter * shared)
    else:
        mlp = _gated_mlp(hidden, cfg["intermediate_size"])
    return attn + mlp + 2 * hidden


def count_deepseek(cfg, v3):
    """DeepSeek-V2 / V2-Lite / V3 (MLA + DeepSeekMoE, remote code)."""
    hidden = cfg["hidden_size"]
    layers = cfg["num_hidden_layers"]
    total = hidden + _embed_and_head(cfg, cfg["vocab_size"], hidden, False)
    for i in range(layers):
        total += _deepseek_decoder_layer(cfg, i, v3)
    out = {"total": total}
    n_mtp = cfg.get("num_nextn_predict_layers", 0) or 0
    if n_mtp:
        # model.layers.{L..L+n-1}: a full decoder layer plus enorm, hnorm,
        # eh_proj [h, 2h] and shared_head.norm; embed_tokens and shared_head.head
        # are shared with the main model and not counted again.
        out["mtp"] = sum(_deepseek_decoder_layer(cfg, layers + k, v3)
                         + 3 * hidden + _linear(hidden, 2 * hidden)
                         for k in range(n_mtp))
    return out


def count_params(cfg):
    """Return {"total": int, ["mtp": int]} for a config dict."""
    mt = cfg.get("model_type")
    if mt in ("llama", "mistral"):
        return count_llama_like(cfg)
    if mt == "qwen2":
        return count_llama_like(cfg, qkv_bias=True, o_bias=False)
    if mt == "qwen3":
        return count_llama_like(cfg, qk_norm=True)
    if mt == "gemma":
        return count_llama_like(cfg, tie_default=True)
    if mt == "gemma2":
        return count_llama_like(cfg, tie_default=True, norms_per_layer=4)
    if mt == "internlm2":
        return count_llama_like(cfg, qkv_bias=bool(cfg.get("bias", False)),
                                o_bias=bool(cfg.get("bias", False)))
    if mt == "baichuan":
        return count_llama_like(cfg, qkv_bias=False, o_bias=False)
    if mt == "phi3":
        return count_phi3(cfg)
    if mt == "qwen2_moe":
        return count_qwen_moe(cfg, qwen3=False)
    if mt == "qwen3_moe":
        return count_qwen_moe(cfg, qwen3=True)
    if mt == "mixtral":
        return count_mixtral(cfg)
    if mt == "chatglm":
        return count_chatglm(cfg)
    if mt == "gpt2":
        return count_gpt2(cfg)
    if mt == "deepseek_v2":
        return count_deepseek(cfg, v3=False)
    if mt == "deepseek_v3":
        return count_deepseek(cfg, v3=True)
    raise ValueError("unsupported model_type %r" % (mt,))


def count_file(path):
    if os.path.isdir(path):
        path = os.path.join(path, "config.json")
    with open(path) as f:
        return count_params(json.load(f))


def _readme_counts(configs_dir):
    """folder -> expected total, from the first integer column of README.md's table."""
    out = {}
    with open(os.path.join(configs_dir, "README.md")) as f:
        for line in f:
            m = re.match(r"^\|\s*([\w.\-]+)\s*\|\s*\w+\s*\|\s*(\d+)\s*\|", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="config.json files or folders holding one")
    ap.add_argument("--check", metavar="CONFIGS_DIR",
                    help="count every <dir>/*/config.json and compare with <dir>/README.md")
    args = ap.parse_args(argv)
    if args.check:
        expected = _readme_counts(args.check)
        bad = 0
        for name in sorted(os.listdir(args.check)):
            p = os.path.join(args.check, name, "config.json")
            if not os.path.isfile(p):
                continue
            got = count_file(p)
            exp = expected.get(name)
            ok = exp == got["total"]
            bad += not ok
            extra = "  (+%d MTP)" % got["mtp"] if "mtp" in got else ""
            print("%-32s %15d  %s%s" % (name, got["total"],
                                        "ok" if ok else "MISMATCH (README: %s)" % exp, extra))
        return 1 if bad else 0
    for p in args.paths:
        got = count_file(p)
        extra = "  (+%d MTP)" % got["mtp"] if "mtp" in got else ""
        print("%-60s %15d%s" % (p, got["total"], extra))
    return 0


if __name__ == "__main__":
    sys.exit(main())
