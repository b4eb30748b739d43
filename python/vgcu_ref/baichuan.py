"""HF-exact references of Baichuan 2 7B (BaichuanForCausalLM) and Baichuan 1 7B (BaiChuanForCausalLM).

Followed: the remote code ``modeling_baichuan.py`` / ``configuration_baichuan.py`` of the
baichuan-inc/Baichuan2-7B-Base (and -Chat) and baichuan-inc/Baichuan-7B model repositories. Baichuan
13B / Baichuan2 13B use ALiBi instead of RoPE (hidden_size 5120) and are rejected.

Checkpoint layout (E = hidden_size, H = num_attention_heads, D = E / H, I = intermediate_size):
    model.embed_tokens.weight                        [vocab, E]
    model.layers.{i}.self_attn.W_pack.weight         [3E, E]   rows [0, E) = q, [E, 2E) = k, [2E, 3E) = v
                                                              (head h of q = rows h*D .. h*D + D - 1)
    model.layers.{i}.self_attn.o_proj.weight         [E, E]
    model.layers.{i}.mlp.gate_proj.weight            [I, E]
    model.layers.{i}.mlp.up_proj.weight              [I, E]
    model.layers.{i}.mlp.down_proj.weight            [E, I]
    model.layers.{i}.input_layernorm.weight          [E]
    model.layers.{i}.post_attention_layernorm.weight [E]
    model.norm.weight                                [E]
    lm_head.weight                                   [vocab, E]
  Baichuan 1 only: model.layers.{i}.self_attn.rotary_emb.inv_freq [D/2] (a persistent buffer of the
  original; its values are never read by the forward: the cos/sin tables are built at construction
  from the freshly computed frequencies. Saved by ``checkpoint_state_dict`` like the real checkpoint,
  optional on load.) No biases anywhere.

Numerics (model dtype = parameter dtype):
  * RMSNorm as Baichuan writes it: var = x.float().pow(2).mean(-1); y = x * rsqrt(var + eps) (x in
    the model dtype times an f32 tensor: promoted, computed in f32); y is cast to the weight dtype
    only when that is f16/bf16; return weight * y (model dtype). Same values as Llama's RMSNorm.
  * rotary (rotate_half over the whole head, pairs (d, d + D/2), theta 10000 fixed):
    cos/sin = cos/sin(cat(p * inv_freq, p * inv_freq)) computed in f32.
      Baichuan 2: kept in f32; q_embed = (q.float() * cos + rotate_half(q.float()) * sin).to(dtype),
                  i.e. the rotation is done in f32 and rounded once.
      Baichuan 1: cos/sin rounded to the model dtype first; rotation in the model dtype (old Llama).
  * attention: Baichuan 1 (eager): matmul(q, k^T) / math.sqrt(D) in the model dtype, + finfo.min
    mask, torch.max with finfo.min, softmax in f32 cast back, matmul with v.
    Baichuan 2 calls F.scaled_dot_product_attention(q, k, v, attn_mask) (torch >= 2.0; fused
    kernels have no bit-exact eager definition). The reference uses the Baichuan 1 eager formula,
    which is SDPA's math definition (softmax(q k^T / sqrt(D) + mask) v) with the softmax in f32.
  * Baichuan 2 lm_head is a NormHead: at inference its weight is replaced once by
    F.normalize(weight) = w / max(||w_row||_2, 1e-12) (p=2, dim=1, eps=1e-12), computed IN THE
    WEIGHT'S DTYPE (bf16 checkpoints: norm rounded to bf16, division rounded to bf16), then
    logits = F.linear(h, w_normalized). The reference normalizes in every forward (same values).
  * logits in the model dtype, then ``.float()``.
"""

import math
from typing import Iterable, List, Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import models, tiny
from .eager_attention import divided_attention
from .models import CausalLM, DecoderLayer, GatedMLP, RMSNorm, _cached_keys_values, layer_caches
from .rope import Float32Buffers, default_inv_freq, rotate_half

_BAICHUAN1_DEFAULTS = {  # Baichuan-7B configuration_baichuan.BaiChuanConfig
    "model_type": "baichuan",
    "vocab_size": 64000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "hidden_act": "silu",
    "max_position_embeddings": 4096,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
}

# Baichuan2-7B configuration_baichuan.BaichuanConfig: BaiChuanConfig's fields, another vocabulary, z_loss_weight.
_BAICHUAN2_DEFAULTS = {**_BAICHUAN1_DEFAULTS, "vocab_size": 125696, "z_loss_weight": 0}


class BaichuanRMSNorm(RMSNorm):
    """Baichuan's RMSNorm (no explicit upcast of x before the multiply; conditional cast back).

    Llama's values, but its own spelling (implicit promotion, cast only for f16/bf16 weights), so
    traces show the original's ops; the variants do not apply.
    """

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        if self.weight.dtype in (torch.float16, torch.bfloat16):
            hidden_states = hidden_states.to(self.weight.dtype)
        return self.weight * hidden_states


class BaichuanRotaryEmbedding(Float32Buffers):
    """cos/sin [T, D] in f32 at the positions (base 10000), NOT cast: Baichuan 2 rotates in f32.
    Baichuan 1 also has the persistent ``inv_freq`` buffer of its checkpoints (``layer_buffer``)."""

    def __init__(self, head_dim: int):
        super().__init__()
        self.register_buffer("inv_freq", default_inv_freq(10000, head_dim), persistent=False)

    def forward(self, positions: torch.Tensor):
        freqs = positions.to(torch.float32)[:, None] * self.inv_freq[None, :]  # torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()


class BaichuanLegacyRotaryBuffer(nn.Module):
    """Baichuan 1 ``self_attn.rotary_emb``: only holds the checkpoint's persistent inv_freq buffer."""

    def __init__(self, head_dim: int):
        super().__init__()
        self.register_buffer("inv_freq", default_inv_freq(10000, head_dim))  # cast with the model, like the original


class BaichuanAttention(nn.Module):
    def __init__(self, cfg: dict, rotate_in_f32: bool, legacy_buffer: bool):
        super().__init__()
        self.hidden_size = cfg["hidden_size"]
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = self.hidden_size // self.num_heads
        self.rotate_in_f32 = rotate_in_f32
        self.W_pack = nn.Linear(self.hidden_size, 3 * self.hidden_size, bias=False)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, self.hidden_size, bias=False)
        if legacy_buffer:
            self.rotary_emb = BaichuanLegacyRotaryBuffer(self.head_dim)

    def _rotate(self, x, cos, sin):
        half = self.head_dim // 2
        if self.rotate_in_f32:  # Baichuan 2
            return ((x.float() * cos) + (rotate_half(x.float(), half) * sin)).to(x.dtype)
        return (x * cos) + (rotate_half(x, half) * sin)  # Baichuan 1: cos/sin already in x.dtype

    def forward(self, x, cos, sin, positions, k_cache=None, v_cache=None):
        proj = self.W_pack(x).view(-1, 3, self.hidden_size)  # unflatten(-1, (3, hidden_size))
        q = proj[:, 0].reshape(-1, self.num_heads, self.head_dim)
        k = proj[:, 1].reshape(-1, self.num_heads, self.head_dim)
        v = proj[:, 2].reshape(-1, self.num_heads, self.head_dim)
        cos, sin = cos[:, None, :], sin[:, None, :]
        q = self._rotate(q, cos, sin)
        k = self._rotate(k, cos, sin)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        return self.o_proj(divided_attention(q, k, v, positions, k_positions, self.num_heads, self.head_dim,
                                                   1, False))


class BaichuanMLP(GatedMLP):
    """Llama's MLP; the original creates gate_proj, down_proj, up_proj."""

    down_before_up = True


class BaichuanDecoderLayer(DecoderLayer):
    """Llama's pre-norm layer with Baichuan's attention and RMSNorm."""

    def __init__(self, cfg: dict, variant: frozenset, rotate_in_f32: bool, legacy_buffer: bool):
        attention = BaichuanAttention(cfg, rotate_in_f32, legacy_buffer)
        mlp = BaichuanMLP(cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_act"], variant)
        super().__init__(cfg, attention, mlp, variant, norm_class=BaichuanRMSNorm)


class BaichuanModel(nn.Module):
    def __init__(self, cfg: dict, variant: frozenset, rotate_in_f32: bool, legacy_buffer: bool):
        super().__init__()
        self.rotate_in_f32 = rotate_in_f32
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([BaichuanDecoderLayer(cfg, variant, rotate_in_f32, legacy_buffer)
                                     for _ in range(cfg["num_hidden_layers"])])
        self.norm = BaichuanRMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.rotary = BaichuanRotaryEmbedding(cfg["hidden_size"] // cfg["num_attention_heads"])

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.embed_tokens(input_ids)
        cos, sin = self.rotary(positions)
        if not self.rotate_in_f32:  # Baichuan 1: self.cos_cached[...].to(dtype=x.dtype)
            cos, sin = cos.to(h.dtype), sin.to(h.dtype)
        for layer, layer_k, layer_v in layer_caches(self.layers, k_cache, v_cache):
            h = layer(h, cos, sin, positions, layer_k, layer_v)
        return self.norm(h)


class NormHead(nn.Module):
    """Baichuan 2 lm_head: weight [vocab, hidden]; logits = F.linear(h, F.normalize(weight))."""

    def __init__(self, hidden_size: int, vocab_size: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty((vocab_size, hidden_size)))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return F.linear(hidden_states, F.normalize(self.weight))


def _resolve_baichuan(cfg: dict) -> dict:
    if cfg["hidden_size"] == 5120:
        raise NotImplementedError("Baichuan 13B models (hidden_size 5120) use ALiBi attention, which the "
                                  "reference does not implement; only the 7B RoPE models are supported")
    if cfg["hidden_size"] % cfg["num_attention_heads"]:
        raise ValueError("Baichuan hidden_size must be divisible by num_attention_heads")
    head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
    for key, value in (("num_key_value_heads", cfg["num_attention_heads"]), ("head_dim", head_dim)):
        if cfg.get(key) not in (None, value):
            raise ValueError(f"Baichuan has no {key} field; it is {value} for this config, not {cfg[key]}")
        cfg[key] = value  # derived for the generic code; not written to config.json
    return cfg


class _BaichuanBase(CausalLM):
    config_aliases = ("num_key_value_heads", "head_dim")
    rotate_in_f32 = True
    legacy_buffer = False

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.model = BaichuanModel(self.config, self.variant, self.rotate_in_f32, self.legacy_buffer)
        self._make_head()

    def _make_head(self):
        self._finish(self.model.embed_tokens, self.config["hidden_size"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        return _resolve_baichuan(cfg)


class BaichuanForCausalLM(_BaichuanBase):
    """Baichuan 2 7B: NormHead lm_head, rotary in f32."""

    architecture = "BaichuanForCausalLM"

    def _make_head(self):
        if self.tie_word_embeddings:
            raise NotImplementedError("Baichuan 2 with tie_word_embeddings: the NormHead's in-place normalization "
                                      "would rewrite the shared embedding; not supported")
        self.lm_head = NormHead(self.config["hidden_size"], self.config["vocab_size"])
        self._freeze()

    def init_parameter(self, name, module, leaf, param, normal) -> Optional[torch.Tensor]:
        if name == "lm_head.weight":  # rows are normalized by the head anyway
            return normal(param.shape, 1.0)
        if name == "model.norm.weight":
            # The head has unit rows, so the final norm carries the logit scale (std ~ tiny.LOGIT_STD);
            # random signs as for every final norm (see tiny.init_random_weights).
            return normal(param.shape, 0.1, 1.0) * tiny.LOGIT_STD * torch.sign(normal(param.shape, 1.0))
        return None


class BaiChuanForCausalLM(_BaichuanBase):
    """Baichuan 1 7B: plain nn.Linear lm_head, rotary in the model dtype, inv_freq buffers saved."""

    architecture = "BaiChuanForCausalLM"
    rotate_in_f32 = False
    legacy_buffer = True

    @property
    def optional_checkpoint_tensors(self) -> List[str]:
        return [f"model.layers.{i}.self_attn.rotary_emb.inv_freq" for i in range(self.num_layers)]


models.register_architecture(BaichuanForCausalLM, _BAICHUAN2_DEFAULTS)
models.register_architecture(BaiChuanForCausalLM, _BAICHUAN1_DEFAULTS)


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    config.pop("num_key_value_heads", None)  # no GQA: like OPT, --kv-heads is ignored
    tiny.drop_derived_head_dim(config, "Baichuan")
    tiny.reject_overrides(size_overrides, ("sliding_window", "rope_theta"), "Baichuan",
                          " (RoPE base 10000 is fixed)")


_TINY_BAICHUAN = {
    **tiny.TINY_COMMON,
    "intermediate_size": 128,
    "hidden_act": "silu",
    "rms_norm_eps": 1e-6,
    "tie_word_embeddings": False,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
}
tiny.register_tiny_preset("BaichuanForCausalLM", _TINY_BAICHUAN, adjust=_tiny_adjust)
tiny.register_tiny_preset("BaiChuanForCausalLM", _TINY_BAICHUAN, adjust=_tiny_adjust)
