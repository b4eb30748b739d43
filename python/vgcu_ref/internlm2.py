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

from typing import Iterable, Optional, Union

import torch
from torch import nn

from . import models, tiny
from .eager_attention import divided_attention
from .models import Activation, CausalLM, RMSNorm, _cached_keys_values, rotate_half

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


class InternLM2RotaryEmbedding(nn.Module):
    """cos/sin [T, D] for positions; default, "linear" and "dynamic" rope_scaling as InternLM2 has them.

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
        inv_freq = 1.0 / (self.base ** (torch.arange(0, self.dim, 2).float() / self.dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.register_buffer("exponents", torch.arange(0, self.dim, 2).float() / self.dim, persistent=False)

    def _apply(self, fn, *args, **kwargs):
        # model.to(bfloat16) must not round the f32 frequency tables (the original keeps them f32).
        keep = {name: getattr(self, name) for name in ("inv_freq", "exponents")}
        super()._apply(fn, *args, **kwargs)
        for name, value in keep.items():
            setattr(self, name, value.to(device=getattr(self, name).device))
        return self

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


class InternLM2MLP(nn.Module):
    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        hidden, inter = cfg["hidden_size"], cfg["intermediate_size"]
        self.w1 = nn.Linear(hidden, inter, bias=False)
        self.w3 = nn.Linear(hidden, inter, bias=False)
        self.w2 = nn.Linear(inter, hidden, bias=False)
        self.act_fn = Activation(cfg["hidden_act"], variant)

    def forward(self, x):
        return self.w2(self.act_fn(self.w1(x)) * self.w3(x))


class InternLM2DecoderLayer(nn.Module):
    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.attention = InternLM2Attention(cfg, variant)
        self.feed_forward = InternLM2MLP(cfg, variant)
        self.attention_norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"], variant)
        self.ffn_norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"], variant)

    def forward(self, h, cos, sin, positions, k_cache=None, v_cache=None):
        residual = h
        h = residual + self.attention(self.attention_norm(h), cos, sin, positions, k_cache, v_cache)
        residual = h
        return residual + self.feed_forward(self.ffn_norm(h))


class InternLM2Model(nn.Module):
    """``model``: tok_embeddings, layers, norm (the rotary module lives in every attention originally;
    all of them compute the same table, so one is shared here; it holds no checkpoint tensor)."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.tok_embeddings = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([InternLM2DecoderLayer(cfg, variant) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"], variant)
        self.rotary_emb = InternLM2RotaryEmbedding(cfg)

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.tok_embeddings(input_ids)
        cos, sin = self.rotary_emb(positions, h.dtype)
        for i, layer in enumerate(self.layers):
            h = layer(h, cos, sin, positions, None if k_cache is None else k_cache[i],
                      None if v_cache is None else v_cache[i])
        return self.norm(h)


class InternLM2ForCausalLM(CausalLM):
    """``model`` + ``output`` (the LM head; tied to tok_embeddings when tie_word_embeddings)."""

    architecture = "InternLM2ForCausalLM"
    lm_head_name = "output"
    tied_embedding_name = "model.tok_embeddings.weight"
    config_aliases = ("head_dim",)

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.model = InternLM2Model(self.config, self.variant)
        self.output = nn.Linear(self.config["hidden_size"], self.config["vocab_size"], bias=False)
        if self.tie_word_embeddings:
            self.output.weight = self.model.tok_embeddings.weight
        self.eval()
        self.requires_grad_(False)

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

    @property
    def dtype(self) -> torch.dtype:
        return self.output.weight.dtype

    def forward(self, input_ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return self.output(self.model(input_ids, positions)).float()

    def forward_with_cache(self, input_ids, positions, k_cache, v_cache):
        return self.output(self.model(input_ids, positions, k_cache, v_cache)).float()

    def checkpoint_state_dict(self):
        state = self.state_dict()
        if self.tie_word_embeddings:
            state.pop("output.weight")
        return state

    def init_parameter(self, name, module, leaf, param, normal) -> Optional[torch.Tensor]:
        if name == "output.weight":  # the LM head: logits with std ~ tiny.LOGIT_STD
            return normal(param.shape, tiny.LOGIT_STD / self.config["hidden_size"] ** 0.5)
        return None


models.register_architecture(InternLM2ForCausalLM, _INTERNLM2_DEFAULTS)


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    head_dim = config.pop("head_dim", None)
    if head_dim is not None and head_dim != config["hidden_size"] // config["num_attention_heads"]:
        raise ValueError("InternLM2 has no head_dim: it is hidden_size / num_attention_heads")
    for key in ("sliding_window",):
        if key in size_overrides:
            raise ValueError(f"InternLM2 has no {key}")


tiny.register_tiny_preset(
    "InternLM2ForCausalLM",
    {
        "vocab_size": 250,
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "intermediate_size": 128,
        "max_position_embeddings": 128,
        "hidden_act": "silu",
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
