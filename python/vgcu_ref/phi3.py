"""HF-exact reference of Phi3ForCausalLM (flat-sequence API of models.py).

Followed: transformers ``models/phi3/modeling_phi3.py`` (commit 00d4b3d2, v4.5x), v4
``configuration_phi3.py`` defaults and ``modeling_rope_utils.py`` (see rope.py).

Checkpoint layout: packed ``self_attn.qkv_proj.weight`` [(H + 2 KVH) * D, hidden] (rows: q heads,
then k heads, then v heads) and ``mlp.gate_up_proj.weight`` [2 * intermediate, hidden] (rows: gate,
then up); no biases anywhere; lm_head untied by default.

Numerics: Llama's (RMSNorm in f32, cast back, then weight * x in the model dtype; softmax in f32),
with
  * MLP: gate, up = gate_up_proj(x).chunk(2, -1); down_proj(up * silu(gate)) (HF writes up * act(gate)).
  * rotary: rope type "default" or "longrope" ("su" and "yarn" are renamed to longrope, as HF's v4
    Phi3Config does; other types raise ValueError). partial_rotary_factor (Phi-4-mini: 0.75) rotates
    only the first rotary_dim = int(head_dim * factor) channels of each q/k head:
        q = cat([q[..., :rd] * cos + rotate_half(q[..., :rd]) * sin, q[..., rd:]], -1)
    rotate_half splits q[..., :rd] at rd / 2. LongRoPE picks the long factors when max(positions) + 1
    of the call exceeds the top-level original_max_position_embeddings, and multiplies cos/sin by
    sqrt(1 + ln(max_pos / original) / ln(original)) in f32 (rope.py).
  * sliding_window (when not null) applies to every layer: key j hidden from query i when
    pos_i - pos_j >= sliding_window.

Generation: HF's ``Phi3ForCausalLM.prepare_inputs_for_generation`` DROPS the KV cache when the
sequence reaches original_max_position_embeddings + 1 tokens (and rope_scaling is set) and
recomputes the whole sequence, so every cached key is re-rotated with the long factors. The model
exposes that length as ``reprefill_at_length``; ``generate.greedy_generate_with_cache`` honours it.
"""

from typing import Iterable, Union

from torch import nn

from . import models, tiny
from .models import Activation, AttentionCore, CausalLM, DecoderLayer, DecoderModel, _cached_keys_values, resolve_heads
from .rope import apply_partial_rotary, build_rotary_embedding, rotary_dim, rope_scaling_dict

_PHI3_DEFAULTS = {
    "model_type": "phi3",
    "vocab_size": 32064,
    "hidden_size": 3072,
    "intermediate_size": 8192,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": None,
    "head_dim": None,  # not a Phi3Config field; HF uses getattr(config, "head_dim", hidden // heads)
    "resid_pdrop": 0.0,
    "embd_pdrop": 0.0,
    "attention_dropout": 0.0,
    "hidden_act": "silu",
    "max_position_embeddings": 4096,
    "original_max_position_embeddings": 4096,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-5,
    "use_cache": True,
    "tie_word_embeddings": False,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "partial_rotary_factor": 1.0,
    "bos_token_id": 1,
    "eos_token_id": 32000,
    "pad_token_id": 32000,
    "sliding_window": None,
}


class Phi3Attention(AttentionCore):
    """Packed qkv_proj, GQA, (partial) rotary, optional sliding window, o_proj; no biases."""

    def __init__(self, cfg: dict, variant: frozenset):
        head_dim = cfg["head_dim"]
        super().__init__(cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim, head_dim ** -0.5,
                         cfg.get("sliding_window"), "expand_kv" in variant)
        self.rotary_dim = rotary_dim(cfg)
        self.q_size = self.num_heads * head_dim
        self.kv_size = self.num_kv_heads * head_dim
        self.o_proj = nn.Linear(self.q_size, cfg["hidden_size"], bias=False)
        self.qkv_proj = nn.Linear(cfg["hidden_size"], self.q_size + 2 * self.kv_size, bias=False)

    def forward(self, x, cos, sin, positions, k_cache=None, v_cache=None):
        qkv = self.qkv_proj(x)
        q = qkv[..., :self.q_size].view(-1, self.num_heads, self.head_dim)
        k = qkv[..., self.q_size:self.q_size + self.kv_size].view(-1, self.num_kv_heads, self.head_dim)
        v = qkv[..., self.q_size + self.kv_size:].view(-1, self.num_kv_heads, self.head_dim)
        q = apply_partial_rotary(q, cos, sin, self.rotary_dim, self.head_dim)
        k = apply_partial_rotary(k, cos, sin, self.rotary_dim, self.head_dim)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        return self.o_proj(self.attend(q, k, v, positions, k_positions))


class Phi3MLP(nn.Module):
    """HF Phi3MLP: gate, up = gate_up_proj(x).chunk(2); down_proj(up * act(gate))."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.gate_up_proj = nn.Linear(cfg["hidden_size"], 2 * cfg["intermediate_size"], bias=False)
        self.down_proj = nn.Linear(cfg["intermediate_size"], cfg["hidden_size"], bias=False)
        self.activation_fn = Activation(cfg["hidden_act"], variant)

    def forward(self, x):
        up_states = self.gate_up_proj(x)
        gate, up_states = up_states.chunk(2, dim=-1)
        up_states = up_states * self.activation_fn(gate)
        return self.down_proj(up_states)


class Phi3ForCausalLM(CausalLM):
    """HF Phi3ForCausalLM (Phi-3, Phi-3.5, Phi-4-mini): packed projections, LongRoPE, partial rotary."""

    architecture = "Phi3ForCausalLM"

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        layers = [DecoderLayer(cfg, Phi3Attention(cfg, self.variant), Phi3MLP(cfg, self.variant), self.variant)
                  for _ in range(cfg["num_hidden_layers"])]
        # ``model``: embed_tokens, layers, norm, rotary_emb (partial rotary: HF's Phi3 slices q and k)
        rotary = build_rotary_embedding(cfg, allow_partial=True)
        self.model = DecoderModel(cfg, layers, self.variant, rotary_emb=rotary)
        self._finish(self.model.embed_tokens, self.config["hidden_size"])
        # HF drops the cache and re-prefills when the sequence reaches this many tokens.
        self.reprefill_at_length = (
            self.config["original_max_position_embeddings"] + 1 if self.config.get("rope_scaling") else None
        )

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        cfg = resolve_heads(cfg)
        scaling = rope_scaling_dict(cfg)
        if scaling:
            # HF v4 Phi3Config._rope_scaling_adjustment: "su" and "yarn" are old names of longrope.
            scaling = dict(scaling)
            for key in ("type", "rope_type"):
                if scaling.get(key) in ("su", "yarn"):
                    scaling[key] = "longrope"
            kind = scaling.get("type", scaling.get("rope_type"))
            if kind not in ("longrope", "default"):
                raise ValueError(f"Phi3 rope_scaling type must be 'longrope', got {kind!r}")
            if cfg.get("rope_scaling"):
                cfg["rope_scaling"] = scaling
        return cfg

    @staticmethod
    def family_sliding_windows(cfg: dict):
        return [cfg.get("sliding_window")] * cfg["num_hidden_layers"]


models.register_architecture(Phi3ForCausalLM, _PHI3_DEFAULTS)


def longrope_test_factors(n: int):
    """Deterministic (short_factor, long_factor) lists of length n for tiny/bench LongRoPE configs."""
    denom = max(n - 1, 1)
    short = [round(1.0 + 0.3 * i / denom, 4) for i in range(n)]
    long = [round(1.0 + 5.0 * (i / denom) ** 2, 4) for i in range(n)]
    return short, long


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    head_dim = size_overrides.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    config["head_dim"] = head_dim
    scaling = config.get("rope_scaling")
    if "rope_scaling" not in size_overrides and scaling and scaling.get("type") == "longrope":
        n = int(head_dim * config.get("partial_rotary_factor", 1.0)) // 2
        if len(scaling["short_factor"]) != n:
            short, long = longrope_test_factors(n)
            config["rope_scaling"] = dict(scaling, short_factor=short, long_factor=long)


_TINY_SHORT, _TINY_LONG = longrope_test_factors(6)  # rotary_dim 12 = 16 * 0.75

tiny.register_tiny_preset(
    "Phi3ForCausalLM",
    {
        **tiny.TINY_ROPE,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "partial_rotary_factor": 0.75,  # Phi-4-mini style: rotate 12 of 16 channels
        "max_position_embeddings": 64,
        "original_max_position_embeddings": 16,  # long factors from the 17th position on
        "rope_scaling": {"type": "longrope", "short_factor": _TINY_SHORT, "long_factor": _TINY_LONG},
        "sliding_window": 10,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
    },
    bench_overrides={"original_max_position_embeddings": 1024, "sliding_window": 1024},
    adjust=_tiny_adjust,
)
