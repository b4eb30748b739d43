"""HF-exact reference of InternLM2ForCausalLM (remote code ``modeling_internlm2.py``), flat-sequence API.

Followed: ``modeling_internlm2.py`` / ``configuration_internlm2.py`` of the internlm2-7b / internlm2-chat-7b
model repositories (the January 2024 version written against transformers 4.34-4.37, which the
``transformers_version: 4.37.1`` config ships with). Later revisions (internlm2.5, mid 2024) rewrote
the rotary module in the position_ids style of transformers 4.38+; the default rope and the linear
rope compute the same values there, and their dynamic NTK differs only in keeping the last base
(see ``InternLM2RotaryEmbedding``).

Checkpoint layout (names exactly as the checkpoint; H = num_attention_heads, KVH = num_key_value_heads,
G = H / KVH, D = hidden_size / H, E = hidden_size, I = intermediate_size, L = num_hidden_layers):
    model.tok_embeddings.weight                      [vocab, E]
    model.layers.{i}.attention.wqkv.weight           [(H + 2 KVH) D, E]   (+ .bias [(H + 2 KVH) D] if bias)
    model.layers.{i}.attention.wo.weight             [E, H D]             (+ .bias [E] if bias)
    model.layers.{i}.feed_forward.w1.weight          [I, E]   gate
    model.layers.{i}.feed_forward.w3.weight          [I, E]   up
    model.layers.{i}.feed_forward.w2.weight          [E, I]   down
    model.layers.{i}.attention_norm.weight           [E]
    model.layers.{i}.ffn_norm.weight                 [E]
    model.norm.weight                                [E]
    output.weight                                    [vocab, E]   (absent when tie_word_embeddings)

wqkv rows are grouped per KV head (einops ``"b q (h gs d) -> b q h gs d", gs = G + 2``): for kv head
h in [0, KVH) the block of (G + 2) * D rows starting at row h * (G + 2) * D holds
    rows h*(G+2)*D + g*D + d,  g < G   ->  query head h*G + g, channel d
    rows h*(G+2)*D + G*D + d           ->  key head h, channel d
    rows h*(G+2)*D + (G+1)*D + d       ->  value head h, channel d
and query head h*G + g attends with kv head h (HF repeat_kv). No checkpoint tensor holds rotary
frequencies (inv_freq is a non-persistent buffer).

Numerics (model dtype = parameter dtype):
  * RMSNorm exactly as Llama (models.RMSNorm): x.float(), x * rsqrt(mean(x^2) + eps), cast back to
    the model dtype, then weight * x in the model dtype.
  * rotary (rotate_half over the whole head, pairs (d, d + D/2)): inv_freq = 1 / theta **
    (arange(0, D, 2).float() / D) in f32; freqs = t * inv_freq in f32 with t = position (linear
    scaling: t = position / factor, the division in f32 BEFORE the product); cos/sin of
    cat(freqs, freqs) in f32, ROUNDED TO THE MODEL DTYPE, then q*cos + rotate_half(q)*sin in the
    model dtype. Dynamic NTK: base = theta * ((factor * L / max_pos) - (factor - 1)) ** (D / (D - 2))
    when L = max(positions) + 1 > max_position_embeddings, else theta (computed here in float64 from
    the positions, then the pow as in the original).
  * attention: matmul(q, k^T) / math.sqrt(D) in the model dtype (a division), additive finfo.min mask,
    softmax in f32 cast back, matmul with v, wo.
  * MLP: w2(silu(w1(x)) * w3(x)); logits = output(h) in the model dtype, then ``.float()``.
"""

from typing import Iterable, Union

import torch
from torch import nn

from . import models, tiny
from .eager_attention import divided_attention
from .models import CausalLM, DecoderLayer, DecoderModel, GatedMLP, _cached_keys_values
from .rope import Float32Buffers, default_inv_freq, rotate_half

# configuration_internlm2.InternLM2Config defaults.
_INTERNLM2_DEFAULTS = {
    "model_type": "internlm2",
    "vocab_size": 103168,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": None,
    "hidden_act": "silu",
    "max_position_embeddings": 2048,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
    "bias": True,
    "rope_theta": 10000,
    "rope_scaling": None,
    "attn_implementation": "eager",
}


class InternLM2RotaryEmbedding(Float32Buffers):
    """cos/sin [T, D] for positions; default, "linear" and "dynamic" rope_scaling as InternLM2 has them.

    Not rope.py's: "linear" divides the positions (HF divides inv_freq) and "dynamic" takes its base
    from float64 positions, which round differently; the default rope is the same.

    The original caches cos/sin of arange(max_seq_len) and indexes them with position_ids; computing
    them at the positions directly gives the same elements. Dynamic NTK in the original is stateful:
    the cache is rebuilt (with the base of the new length) whenever kv_seq_len exceeds the cached
    length, and kept afterwards. Here the base follows L = max(positions) + 1, which is kv_seq_len in
    every forward of a fresh model generating one sequence (prefill, then decode steps). As in the
    original, keys cached before L passed max_position_embeddings keep the rotation of their step.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        self.dim = cfg["head_dim"]
        self.base = cfg["rope_theta"]
        self.max_position_embeddings = cfg["max_position_embeddings"]
        scaling = cfg.get("rope_scaling")
        self.scaling_type = None if scaling is None else scaling["type"]
        self.scaling_factor = 1.0 if scaling is None else scaling["factor"]
        self.register_buffer("inv_freq", default_inv_freq(self.base, self.dim), persistent=False)
        self.register_buffer("exponents", torch.arange(0, self.dim, 2).float() / self.dim, persistent=False)

    def forward(self, positions: torch.Tensor, dtype: torch.dtype):
        inv_freq = self.inv_freq
        if self.scaling_type == "dynamic":
            seq_len = (positions.max() + 1).to(torch.float64)
            base = self.base * (
                (self.scaling_factor * seq_len / self.max_position_embeddings) - (self.scaling_factor - 1)
            ) ** (self.dim / (self.dim - 2))
            dynamic = 1.0 / (base.to(torch.float32) ** self.exponents)
            inv_freq = torch.where(seq_len > self.max_position_embeddings, dynamic, inv_freq)
        t = positions.to(torch.float32)
        if self.scaling_type == "linear":
            t = t / self.scaling_factor
        freqs = t[:, None] * inv_freq[None, :]  # einsum("i,j->ij", t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)


class InternLM2Attention(nn.Module):
    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = cfg["head_dim"]
        self.num_key_value_heads = cfg["num_key_value_heads"]
        self.num_key_value_groups = self.num_heads // self.num_key_value_heads
        self.expand_kv = "expand_kv" in variant
        bias = bool(cfg["bias"])
        self.wqkv = nn.Linear(self.hidden_size, (self.num_heads + 2 * self.num_key_value_heads) * self.head_dim,
                              bias=bias)
        self.wo = nn.Linear(self.num_heads * self.head_dim, self.hidden_size, bias=bias)

    def forward(self, x, cos, sin, positions, k_cache=None, v_cache=None):
        groups = self.num_key_value_groups
        qkv = self.wqkv(x).view(-1, self.num_key_value_heads, groups + 2, self.head_dim)  # "q (h gs d) -> q h gs d"
        q = qkv[:, :, :groups, :].reshape(-1, self.num_heads, self.head_dim)  # "q h gs d -> q (h gs) d"
        k = qkv[:, :, -2, :]
        v = qkv[:, :, -1, :]
        cos, sin = cos[:, None, :], sin[:, None, :]
        q = (q * cos) + (rotate_half(q, self.head_dim // 2) * sin)
        k = (k * cos) + (rotate_half(k, self.head_dim // 2) * sin)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        out = divided_attention(q, k, v, positions, k_positions, self.num_heads, self.head_dim, groups,
                                self.expand_kv)
        return self.wo(out)


class InternLM2MLP(GatedMLP):
    """w2(silu(w1(x)) * w3(x))."""

    names = ("w1", "w3", "w2")


class InternLM2DecoderLayer(DecoderLayer):
    """Llama's pre-norm layer under InternLM2's names."""

    names = ("attention", "feed_forward", "attention_norm", "ffn_norm")

    def __init__(self, cfg: dict, variant: frozenset):
        attention = InternLM2Attention(cfg, variant)
        mlp = InternLM2MLP(cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_act"], variant)
        super().__init__(cfg, attention, mlp, variant)


class InternLM2Model(DecoderModel):
    """``model``: tok_embeddings, layers, norm (the rotary module lives in every attention originally;
    all of them compute the same table, so one is shared here; it holds no checkpoint tensor)."""

    embed_name = "tok_embeddings"

    def __init__(self, cfg: dict, variant: frozenset):
        layers = [InternLM2DecoderLayer(cfg, variant) for _ in range(cfg["num_hidden_layers"])]
        super().__init__(cfg, layers, variant, rotary_emb=InternLM2RotaryEmbedding(cfg))


class InternLM2ForCausalLM(CausalLM):
    """``model`` + ``output`` (the LM head; tied to tok_embeddings when tie_word_embeddings)."""

    architecture = "InternLM2ForCausalLM"
    lm_head_name = "output"
    tied_embedding_name = "model.tok_embeddings.weight"
    config_aliases = ("head_dim",)

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.model = InternLM2Model(self.config, self.variant)
        self._finish(self.model.tok_embeddings, self.config["hidden_size"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        if cfg.get("num_key_value_heads") is None:
            cfg["num_key_value_heads"] = cfg["num_attention_heads"]
        if cfg["hidden_size"] % cfg["num_attention_heads"]:
            raise ValueError("InternLM2 hidden_size must be divisible by num_attention_heads")
        if cfg["num_attention_heads"] % cfg["num_key_value_heads"]:
            raise ValueError("InternLM2 num_attention_heads must be a multiple of num_key_value_heads")
        head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        if cfg.get("head_dim") not in (None, head_dim):
            raise ValueError(f"InternLM2 head_dim is hidden_size / num_attention_heads = {head_dim}, "
                             f"not {cfg['head_dim']}")
        cfg["head_dim"] = head_dim
        scaling = cfg.get("rope_scaling")
        if scaling is not None:  # InternLM2Config._rope_scaling_validation
            if not isinstance(scaling, dict) or scaling.get("type") not in ("linear", "dynamic"):
                raise ValueError(f"InternLM2 rope_scaling must be {{'type': 'linear'|'dynamic', 'factor': f}}, "
                                 f"got {scaling!r}")
            if not isinstance(scaling.get("factor"), (int, float)) or scaling["factor"] < 1.0:
                raise ValueError(f"InternLM2 rope_scaling factor must be a number >= 1, got {scaling.get('factor')!r}")
        if cfg.get("attn_implementation") not in (None, "eager", "flash_attention_2"):
            raise ValueError(f"unknown InternLM2 attn_implementation {cfg['attn_implementation']!r}")
        return cfg



models.register_architecture(InternLM2ForCausalLM, _INTERNLM2_DEFAULTS)


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    tiny.drop_derived_head_dim(config, "InternLM2")
    tiny.reject_overrides(size_overrides, ("sliding_window",), "InternLM2")


tiny.register_tiny_preset(
    "InternLM2ForCausalLM",
    {
        **tiny.TINY_ROPE,
        "rms_norm_eps": 1e-5,
        "rope_theta": 1000000,
        "rope_scaling": None,
        "bias": False,
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 2,
    },
    adjust=_tiny_adjust,
)
