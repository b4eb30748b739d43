"""Tiny and benchmark-sized model configs plus deterministic, peaked random weight initialization.

The tiny presets are chosen to exercise the interesting paths of a compiler: grouped KV heads (4 query
heads over 2 KV heads), a vocabulary that is not a multiple of 64 (250), Qwen3's explicit head_dim that
differs from hidden/heads, a Mistral sliding window (8) smaller than a 16-token test prompt, Qwen2 and
OPT tied embeddings. Weights are drawn so logits have a standard deviation of about ``LOGIT_STD``,
which gives greedy decoding clear winners (bf16 and f32 runs rarely pick different tokens).
"""

import math
from typing import Optional

import torch
from torch import nn

from .models import ARCH_DEFAULTS, CausalLM, RMSNorm, resolve_config


def _aliases():
    aliases = {}
    for arch, defaults in ARCH_DEFAULTS.items():  # first registered wins, as in models.architecture_of
        aliases.setdefault(defaults["model_type"], arch)
    return aliases

# Standard deviation of the output logits produced by init_random_weights.
LOGIT_STD = 6.0

# Geometry shared by the tiny presets (here and in the family modules).
TINY_COMMON = {
    "vocab_size": 250,
    "hidden_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "max_position_embeddings": 128,
}
TINY_ROPE = {
    **TINY_COMMON,
    "num_key_value_heads": 2,
    "intermediate_size": 128,
    "hidden_act": "silu",
}

TINY_PRESETS = {
    "LlamaForCausalLM": {
        **TINY_ROPE,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "attention_bias": False,
        "mlp_bias": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    "MistralForCausalLM": {
        **TINY_ROPE,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "tie_word_embeddings": False,
        "sliding_window": 8,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    "Qwen2ForCausalLM": {
        **TINY_ROPE,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "tie_word_embeddings": True,
        "use_sliding_window": False,
        "sliding_window": 128,
        "max_window_layers": 2,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    "Qwen3ForCausalLM": {
        **TINY_ROPE,
        "head_dim": 32,  # != hidden_size / num_attention_heads (16), like real Qwen3 models
        "rms_norm_eps": 1e-6,
        "rope_theta": 1000000.0,
        "tie_word_embeddings": False,
        "attention_bias": False,
        "use_sliding_window": False,
        "sliding_window": None,
        "max_window_layers": 2,
        "bos_token_id": 1,
        "eos_token_id": 2,
    },
    "OPTForCausalLM": {
        **TINY_COMMON,
        "ffn_dim": 128,
        "word_embed_proj_dim": 64,
        "activation_function": "relu",
        "do_layer_norm_before": True,
        "enable_bias": True,
        "layer_norm_elementwise_affine": True,
        "tie_word_embeddings": True,
    },
}

# Benchmark model: overrides applied on top of the tiny preset.
BENCH_OVERRIDES = {
    "num_hidden_layers": 4,
    "hidden_size": 512,
    "num_attention_heads": 8,
    "num_key_value_heads": 2,
    "intermediate_size": 1376,
    "vocab_size": 8000,
    "max_position_embeddings": 2048,
}
BENCH_ARCH_OVERRIDES = {
    "Qwen3ForCausalLM": {"head_dim": 64},  # same attention cost as the other benchmark models
    "MistralForCausalLM": {"sliding_window": 1024},
    "Qwen2ForCausalLM": {"sliding_window": 2048},
}


# Per-architecture tiny_config adjustments registered by family modules: fn(config, size_overrides).
TINY_ADJUSTMENTS = {}


def register_tiny_preset(arch: str, preset: dict, bench_overrides: Optional[dict] = None,
                         adjust=None) -> None:
    """Adds the tiny preset of an architecture registered from its own module.

    ``adjust(config, size_overrides)``, when given, replaces tiny_config's default derivation of
    ``head_dim`` (it runs after the overrides were applied, before ``resolve_config``).
    """
    TINY_PRESETS[arch] = dict(preset)
    if bench_overrides:
        BENCH_ARCH_OVERRIDES[arch] = dict(bench_overrides)
    if adjust is not None:
        TINY_ADJUSTMENTS[arch] = adjust


def drop_derived_head_dim(config: dict, family: str, hidden_key: str = "hidden_size",
                          heads_key: str = "num_attention_heads") -> None:
    """tiny_config hook step of families without a head_dim field: drop it, reject another value."""
    head_dim = config.pop("head_dim", None)
    if head_dim is not None and head_dim != config[hidden_key] // config[heads_key]:
        raise ValueError(f"{family} has no head_dim: it is {hidden_key} / {heads_key}")


def reject_overrides(size_overrides: dict, keys, family: str, reason: str = "") -> None:
    """tiny_config hook step: size overrides naming a field the family does not have are errors."""
    for key in keys:
        if key in size_overrides:
            raise ValueError(f"{family} has no {key}{reason}")


def canonical_arch(name: str) -> str:
    """Accept "LlamaForCausalLM" or a model_type such as "llama" (case-insensitive)."""
    if name in ARCH_DEFAULTS:  # exact spelling first: BaichuanForCausalLM vs BaiChuanForCausalLM
        return name
    for arch in ARCH_DEFAULTS:
        if name.lower() == arch.lower():
            return arch
    aliases = _aliases()
    if name.lower() in aliases:
        return aliases[name.lower()]
    choices = ", ".join(list(ARCH_DEFAULTS) + list(aliases))
    raise ValueError(f"unknown architecture {name!r}; choose one of {choices}")


def tiny_config(arch: str, bench: bool = False, overrides: Optional[dict] = None) -> dict:
    """Full HF-style config dict for a tiny (or benchmark) model; ``overrides`` use HF key names.

    Unless overridden, head_dim follows hidden_size / num_attention_heads (twice that for Qwen3), and
    for OPT ``intermediate_size`` is accepted as an alias of ``ffn_dim``.
    """
    arch = canonical_arch(arch)
    config = dict(TINY_PRESETS[arch])
    size_overrides = {}
    if bench:
        size_overrides.update(BENCH_OVERRIDES)
        size_overrides.update(BENCH_ARCH_OVERRIDES.get(arch, {}))
    size_overrides.update(overrides or {})
    config.update(size_overrides)
    if arch in TINY_ADJUSTMENTS:
        TINY_ADJUSTMENTS[arch](config, size_overrides)
    elif arch == "OPTForCausalLM":
        config["ffn_dim"] = config.pop("intermediate_size", config["ffn_dim"])
        config.pop("num_key_value_heads", None)
        if "word_embed_proj_dim" not in size_overrides:
            config["word_embed_proj_dim"] = config["hidden_size"]
    elif "head_dim" not in size_overrides:
        head_dim = config["hidden_size"] // config["num_attention_heads"]
        config["head_dim"] = 2 * head_dim if arch == "Qwen3ForCausalLM" else head_dim
    config["architectures"] = [arch]
    return resolve_config(config)


_FINAL_NORMS = ("model.norm", "model.decoder.final_layer_norm")


def init_random_weights(model: CausalLM, seed: int) -> None:
    """Deterministically fill every parameter of ``model`` (float32 draws, cast to the parameter dtype).

    Linear weights ~ N(0, 1/fan_in) (the LM head: std LOGIT_STD/sqrt(hidden)), token and position
    embeddings ~ N(0, 1) (tied: the lm_head std, so logits keep std ~LOGIT_STD), norm weights
    1 + N(0, 0.1^2), all biases N(0, 0.05^2). The final norm's weights additionally get random
    signs: otherwise a tied model's logit for the current token (its own embedding dotted with the
    residual stream that contains it) always wins and greedy decoding just repeats the last token.
    """
    generator = torch.Generator().manual_seed(seed)
    hidden = model.config["hidden_size"]
    # Families may name their final norm differently or own parameters the rules below do not
    # know: ``final_norm_names`` and ``init_parameter(name, module, leaf, param, normal)``
    # (returning the value, or None for the default rule).
    final_norms = getattr(model, "final_norm_names", _FINAL_NORMS)
    family_rule = getattr(model, "init_parameter", None)
    lm_head_std = LOGIT_STD / math.sqrt(hidden)
    embed_std = lm_head_std if model.tie_word_embeddings else 1.0

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=generator, dtype=torch.float32) * std + mean

    with torch.no_grad():
        for name, param in model.named_parameters():  # a tied lm_head.weight is visited once
            module_name, _, leaf = name.rpartition(".")
            module = model.get_submodule(module_name)
            value = family_rule(name, module, leaf, param, normal) if family_rule else None
            if value is not None:
                pass
            elif isinstance(module, nn.Embedding):
                value = normal(param.shape, embed_std)
            elif isinstance(module, (RMSNorm, nn.LayerNorm)):
                value = normal(param.shape, 0.1, 1.0) if leaf == "weight" else normal(param.shape, 0.05)
                if leaf == "weight" and module_name in final_norms:
                    value *= torch.randint(0, 2, param.shape, generator=generator) * 2 - 1
            elif isinstance(module, nn.Linear):
                if leaf == "bias":
                    value = normal(param.shape, 0.05)
                elif module_name == getattr(model, "lm_head_name", "lm_head"):
                    value = normal(param.shape, lm_head_std)
                else:
                    value = normal(param.shape, param.shape[1] ** -0.5)
            else:
                raise TypeError(f"no initialization rule for {name} ({type(module).__name__})")
            param.copy_(value)
