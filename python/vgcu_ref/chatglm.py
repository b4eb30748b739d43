"""HF-exact reference of ChatGLM2/ChatGLM3/GLM-4 (remote code ``modeling_chatglm.py``), flat-sequence API.

Architectures: ``ChatGLMForConditionalGeneration`` and ``ChatGLMModel`` (the name in the released
config.json files of chatglm2-6b, chatglm3-6b and glm-4-9b; their ``auto_map`` loads
ChatGLMForConditionalGeneration for AutoModel / AutoModelForCausalLM, and the checkpoints hold its
``transformer.`` tensors). Both build the same model.

Followed: THUDM/chatglm3-6b ``modeling_chatglm.py`` and ``configuration_chatglm.py`` (the revision
with ``rope_ratio``; chatglm2-6b is the same code without it) and, for GLM-4, THUDM/glm-4-9b's
``modeling_chatglm.py`` (batch-first layout, same arithmetic). CoreAttention: the explicit
``baddbmm`` path (the one the file takes under torch < 2 and GLM-4's "eager" class); under torch >= 2
chatglm3's file calls F.scaled_dot_product_attention instead (same math, scale 1/sqrt(kv_channels)).
chatglm2-6b-32k (``seq_idx / rope_ratio``, position interpolation) is a different file: not covered.

Config fields read (ChatGLMConfig defaults): num_layers 28, padded_vocab_size 65024, hidden_size 4096,
ffn_hidden_size 13696, kv_channels 128, num_attention_heads 32, seq_length 2048, layernorm_epsilon 1e-5,
rmsnorm True, apply_residual_connection_post_layernorm False, post_layer_norm True, add_bias_linear
False, add_qkv_bias False, multi_query_attention False, multi_query_group_num 1, rope_ratio 1,
apply_query_key_layer_scaling True, attention_softmax_in_fp32 True, fp32_residual_connection False
(True rejected), pre_seq_len None (P-tuning prefix: rejected), quantization_bit 0 (else rejected).
``original_rope`` is stored by the original but never read. ``tie_word_embeddings`` is ignored like
the original (no get_output_embeddings, so HF never ties output_layer). Derived for the generic code
(not written to config.json): vocab_size = padded_vocab_size, num_hidden_layers = num_layers,
max_position_embeddings = seq_length, num_key_value_heads = multi_query_group_num (MQA) or
num_attention_heads, head_dim = kv_channels, intermediate_size = ffn_hidden_size.

Checkpoint layout (E = hidden_size, H = heads, D = kv_channels, G = multi_query_group_num, F = ffn):
    transformer.embedding.word_embeddings.weight                     [padded_vocab, E]
    transformer.rotary_pos_emb.inv_freq                              [D / 4]  persistent buffer, values unused
    transformer.encoder.layers.{i}.input_layernorm.weight            [E]      (+ .bias if not rmsnorm)
    transformer.encoder.layers.{i}.self_attention.query_key_value.weight  [H D + 2 G D, E]  (MQA)
                                                                     [3 H D, E]          (no MQA)
    transformer.encoder.layers.{i}.self_attention.query_key_value.bias    (add_qkv_bias or add_bias_linear)
    transformer.encoder.layers.{i}.self_attention.dense.weight       [E, H D] (+ .bias if add_bias_linear)
    transformer.encoder.layers.{i}.post_attention_layernorm.weight   [E]
    transformer.encoder.layers.{i}.mlp.dense_h_to_4h.weight          [2F, E]  (+ .bias if add_bias_linear)
    transformer.encoder.layers.{i}.mlp.dense_4h_to_h.weight          [E, F]   (+ .bias if add_bias_linear)
    transformer.encoder.final_layernorm.weight                       [E]      (if post_layer_norm)
    transformer.output_layer.weight                                  [padded_vocab, E]
  query_key_value rows, MQA: [0, H D) queries (head h = rows h D .. h D + D - 1), then G D keys, then
  G D values; kv group g serves query heads g*H/G .. (g+1)*H/G - 1 (unsqueeze + expand).
  No MQA: per head h, rows h*3D .. h*3D + D - 1 = q, + D .. = k, + 2D .. = v (view [np, 3 hn], split).
  dense_h_to_4h rows [0, F) are the gate (silu applied), rows [F, 2F) the up projection:
  swiglu(x) = silu(chunk(x, 2)[0]) * chunk(x, 2)[1].

Numerics (model dtype = parameter dtype):
  * RMSNorm: var = x.float().pow(2).mean(-1); y = x * rsqrt(var + eps) (f32); (weight * y) in f32,
    THEN cast to the input dtype (the weight multiply happens before the rounding, unlike Llama).
    rmsnorm False: torch LayerNorm(E, eps) in the model dtype.
  * rotary: rotary_dim = kv_channels (hidden/heads if null); theta_i = 1 / (10000 * rope_ratio) **
    (2i / (rotary_dim/2)) for i < rotary_dim/4, in f32; angle = position * theta_i in f32;
    cache = stack(cos, sin) rounded to the model dtype (f16/bf16; f32 stays). Only the FIRST
    rotary_dim/2 channels of each head rotate, as interleaved pairs (2i, 2i+1):
        out[2i]   = x[2i] * cos_i - x[2i+1] * sin_i
        out[2i+1] = x[2i+1] * cos_i + x[2i] * sin_i       (each product rounded in the model dtype)
    channels rotary_dim/2 .. D-1 pass through. Applied to q and k (k before caching).
  * attention (layer_number n = 1-based layer index): norm_factor = sqrt(D) * n if
    apply_query_key_layer_scaling else sqrt(D); scores = baddbmm(.., q, k^T, beta=0,
    alpha=1/norm_factor): the f32-accumulated q.k times alpha, ROUNDED TO THE MODEL DTYPE; then
    .float() if attention_softmax_in_fp32 (forced by apply_query_key_layer_scaling); * n (f32) if
    apply_query_key_layer_scaling (so with bf16 the score is round_bf16(q.k / (sqrt(D) n)) * n);
    masked_fill(-inf); softmax (f32 when upcast, else model dtype); .type_as(v); bmm with v; dense.
  * block: ln = input_layernorm(x); a = self_attention(ln); residual = ln if
    apply_residual_connection_post_layernorm else x; y = residual + a; ln2 = post_attention_layernorm(y);
    m = mlp(ln2); out = (ln2 if apply_residual_connection_post_layernorm else y) + m.
  * final_layernorm if post_layer_norm; logits = output_layer(h) in the model dtype, then .float().
"""

import math
from typing import Iterable, List, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import models, tiny
from .eager_attention import causal_mask
from .models import Activation, CausalLM, RMSNorm, _cached_keys_values, layer_caches
from .rope import Float32Buffers, default_inv_freq

_CHATGLM_DEFAULTS = {  # configuration_chatglm.ChatGLMConfig (chatglm3-6b / glm-4-9b)
    "model_type": "chatglm",
    "num_layers": 28,
    "padded_vocab_size": 65024,
    "hidden_size": 4096,
    "ffn_hidden_size": 13696,
    "kv_channels": 128,
    "num_attention_heads": 32,
    "seq_length": 2048,
    "hidden_dropout": 0.0,
    "classifier_dropout": None,
    "attention_dropout": 0.0,
    "layernorm_epsilon": 1e-5,
    "rmsnorm": True,
    "apply_residual_connection_post_layernorm": False,
    "post_layer_norm": True,
    "add_bias_linear": False,
    "add_qkv_bias": False,
    "bias_dropout_fusion": True,
    "multi_query_attention": False,
    "multi_query_group_num": 1,
    "rope_ratio": 1,
    "apply_query_key_layer_scaling": True,
    "attention_softmax_in_fp32": True,
    "fp32_residual_connection": False,
    "quantization_bit": 0,
    "pre_seq_len": None,
    "prefix_projection": False,
    "original_rope": True,
    "use_cache": True,
    "tie_word_embeddings": False,
}

_ALIASES = ("vocab_size", "num_hidden_layers", "max_position_embeddings", "num_key_value_heads", "head_dim",
            "intermediate_size")


class ChatGLMRMSNorm(RMSNorm):
    """ChatGLM RMSNorm: the weight multiply happens in f32, then one cast to the input dtype (Llama's
    rounds before the multiply, so this is not models.RMSNorm; the variants do not apply)."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        input_dtype = hidden_states.dtype
        variance = hidden_states.to(torch.float32).pow(2).mean(-1, keepdim=True)
        hidden_states = hidden_states * torch.rsqrt(variance + self.variance_epsilon)
        return (self.weight * hidden_states).to(input_dtype)


def _layer_norm(cfg: dict) -> nn.Module:
    if cfg["rmsnorm"]:
        return ChatGLMRMSNorm(cfg["hidden_size"], cfg["layernorm_epsilon"])
    return nn.LayerNorm(cfg["hidden_size"], eps=cfg["layernorm_epsilon"])


class ChatGLMRotaryEmbedding(Float32Buffers):
    """``transformer.rotary_pos_emb``: the persistent ``inv_freq`` buffer of the checkpoints (only its
    dtype matters to the original) and the rope cache [T, rotary_dim/4, 2] at the given positions."""

    float32_buffers = ("theta",)  # the original computes theta in f32 on every call; inv_freq is cast

    def __init__(self, dim: int, rope_ratio):
        super().__init__()
        self.dim = dim  # = rotary_dim // 2 (n_elem)
        self.register_buffer("inv_freq", default_inv_freq(10000, dim))
        base = 10000 * rope_ratio  # forward_impl: base = base * self.rope_ratio
        self.register_buffer("theta", default_inv_freq(base, dim), persistent=False)

    def forward(self, positions: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        idx_theta = positions.to(torch.float)[:, None] * self.theta[None, :]  # torch.outer(seq_idx, theta)
        cache = torch.stack([torch.cos(idx_theta), torch.sin(idx_theta)], dim=-1)
        if dtype in (torch.float16, torch.bfloat16, torch.int8):  # "mimic the behaviour of complex32"
            cache = cache.bfloat16() if dtype == torch.bfloat16 else cache.half()
        return cache


def apply_rotary_pos_emb(x: torch.Tensor, rope_cache: torch.Tensor, rot_dim: int, heads: int) -> torch.Tensor:
    """x: [T, heads, D]; rope_cache: [T, rot_dim/2, 2] (cos, sin). The original's [sq, b, np, hn] code
    with the batch dimension dropped."""
    x, x_pass = x[..., :rot_dim], x[..., rot_dim:]
    xshaped = x.reshape(-1, heads, rot_dim // 2, 2)
    rope_cache = rope_cache.view(-1, 1, rot_dim // 2, 2)
    x_out2 = torch.stack(
        [
            xshaped[..., 0] * rope_cache[..., 0] - xshaped[..., 1] * rope_cache[..., 1],
            xshaped[..., 1] * rope_cache[..., 0] + xshaped[..., 0] * rope_cache[..., 1],
        ],
        -1,
    )
    x_out2 = x_out2.flatten(2)
    return torch.cat((x_out2, x_pass), dim=-1)


class CoreAttention(nn.Module):
    """The original's baddbmm attention (no parameters). Not eager_attention's: the scores are rounded
    once after an f32 product and scale, rescaled by the layer number in f32, masked with -inf."""

    def __init__(self, cfg: dict, layer_number: int):
        super().__init__()
        self.apply_query_key_layer_scaling = bool(cfg["apply_query_key_layer_scaling"])
        self.attention_softmax_in_fp32 = bool(cfg["attention_softmax_in_fp32"])
        if self.apply_query_key_layer_scaling:
            self.attention_softmax_in_fp32 = True
        self.layer_number = max(1, layer_number)
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = cfg["kv_channels"]
        coeff = None
        self.norm_factor = math.sqrt(self.head_dim)
        if self.apply_query_key_layer_scaling:
            coeff = self.layer_number
            self.norm_factor *= coeff
        self.coeff = coeff

    def forward(self, q, k, v, q_positions, k_positions):
        """q: [T, H, D]; k, v: [S, H, D] (groups already expanded). Returns [T, H * D]."""
        # Original: torch.baddbmm(torch.empty(b*np, sq, sk), q, k^T, beta=0.0, alpha=1/norm_factor) in the
        # model dtype, i.e. alpha * (q . k) accumulated in f32 and rounded ONCE to the model dtype (what
        # cuBLAS does). Written as an f32 matmul, the scale in f32, one cast: torch 1.13's CPU baddbmm
        # reads its uninitialized output when beta=0 and sq == 1 (NaN during decode) and rounds
        # small bf16 products differently.
        scores = (torch.matmul(q.transpose(0, 1).float(), k.permute(1, 2, 0).float())  # [H, T, S]
                  * (1.0 / self.norm_factor)).to(q.dtype)
        if self.attention_softmax_in_fp32:
            scores = scores.float()
        if self.coeff is not None:
            scores = scores * self.coeff
        scores = scores.masked_fill(causal_mask(q_positions, k_positions), float("-inf"))
        probs = F.softmax(scores, dim=-1).type_as(v)
        context = torch.bmm(probs, v.transpose(0, 1))  # [H, T, D]
        return context.transpose(0, 1).reshape(-1, self.num_heads * self.head_dim)


class SelfAttention(nn.Module):
    def __init__(self, cfg: dict, layer_number: int):
        super().__init__()
        self.num_heads = cfg["num_attention_heads"]
        self.head_dim = cfg["kv_channels"]
        self.projection_size = self.head_dim * self.num_heads
        self.multi_query_attention = bool(cfg["multi_query_attention"])
        self.num_groups = cfg["multi_query_group_num"] if self.multi_query_attention else self.num_heads
        qkv_hidden_size = 3 * self.projection_size
        if self.multi_query_attention:
            qkv_hidden_size = self.projection_size + 2 * self.head_dim * self.num_groups
        rotary_dim = cfg["kv_channels"]
        self.rot_dim = 2 * len(range(0, rotary_dim // 2, 2))  # rope_cache.shape[-2] * 2
        self.query_key_value = nn.Linear(cfg["hidden_size"], qkv_hidden_size,
                                         bias=bool(cfg["add_bias_linear"] or cfg["add_qkv_bias"]))
        self.core_attention = CoreAttention(cfg, layer_number)
        self.dense = nn.Linear(self.projection_size, cfg["hidden_size"], bias=bool(cfg["add_bias_linear"]))

    def forward(self, x, rope_cache, positions, k_cache=None, v_cache=None):
        mixed = self.query_key_value(x)
        if self.multi_query_attention:
            q, k, v = mixed.split([self.projection_size, self.num_groups * self.head_dim,
                                   self.num_groups * self.head_dim], dim=-1)
            q = q.view(-1, self.num_heads, self.head_dim)
            k = k.view(-1, self.num_groups, self.head_dim)
            v = v.view(-1, self.num_groups, self.head_dim)
        else:
            mixed = mixed.view(-1, self.num_heads, 3 * self.head_dim)
            q, k, v = torch.split(mixed, self.head_dim, dim=-1)  # split_tensor_along_last_dim(.., 3)
        q = apply_rotary_pos_emb(q, rope_cache, self.rot_dim, self.num_heads)
        k = apply_rotary_pos_emb(k, rope_cache, self.rot_dim, self.num_groups)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        if self.multi_query_attention:
            rep = self.num_heads // self.num_groups
            k = k.unsqueeze(-2).expand(-1, -1, rep, -1).contiguous().view(-1, self.num_heads, self.head_dim)
            v = v.unsqueeze(-2).expand(-1, -1, rep, -1).contiguous().view(-1, self.num_heads, self.head_dim)
        return self.dense(self.core_attention(q, k, v, positions, k_positions))


class MLP(nn.Module):
    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        bias = bool(cfg["add_bias_linear"])
        self.dense_h_to_4h = nn.Linear(cfg["hidden_size"], cfg["ffn_hidden_size"] * 2, bias=bias)
        self.dense_4h_to_h = nn.Linear(cfg["ffn_hidden_size"], cfg["hidden_size"], bias=bias)
        self.silu = Activation("silu", variant)

    def forward(self, hidden_states):
        x = torch.chunk(self.dense_h_to_4h(hidden_states), 2, dim=-1)
        return self.dense_4h_to_h(self.silu(x[0]) * x[1])  # swiglu


class GLMBlock(nn.Module):
    def __init__(self, cfg: dict, layer_number: int, variant: frozenset):
        super().__init__()
        self.apply_residual_connection_post_layernorm = bool(cfg["apply_residual_connection_post_layernorm"])
        self.input_layernorm = _layer_norm(cfg)
        self.self_attention = SelfAttention(cfg, layer_number)
        self.post_attention_layernorm = _layer_norm(cfg)
        self.mlp = MLP(cfg, variant)

    def forward(self, hidden_states, rope_cache, positions, k_cache=None, v_cache=None):
        layernorm_output = self.input_layernorm(hidden_states)
        attention_output = self.self_attention(layernorm_output, rope_cache, positions, k_cache, v_cache)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else hidden_states
        layernorm_input = residual + attention_output
        layernorm_output = self.post_attention_layernorm(layernorm_input)
        mlp_output = self.mlp(layernorm_output)
        residual = layernorm_output if self.apply_residual_connection_post_layernorm else layernorm_input
        return residual + mlp_output


class GLMTransformer(nn.Module):
    """``transformer.encoder``: layers (layer_number = index + 1) and final_layernorm."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.layers = nn.ModuleList([GLMBlock(cfg, i + 1, variant) for i in range(cfg["num_layers"])])
        self.post_layer_norm = bool(cfg["post_layer_norm"])
        if self.post_layer_norm:
            self.final_layernorm = _layer_norm(cfg)

    def forward(self, h, rope_cache, positions, k_cache=None, v_cache=None):
        for layer, layer_k, layer_v in layer_caches(self.layers, k_cache, v_cache):
            h = layer(h, rope_cache, positions, layer_k, layer_v)
        if self.post_layer_norm:
            h = self.final_layernorm(h)
        return h


class Embedding(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg["padded_vocab_size"], cfg["hidden_size"])

    def forward(self, input_ids):
        return self.word_embeddings(input_ids)  # [b s h] -> [s b h] transpose: nothing to do flat


class GLMTransformerModel(nn.Module):
    """The original's ``ChatGLMModel`` (``transformer``): embedding, rotary_pos_emb, encoder, output_layer."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.embedding = Embedding(cfg)
        rotary_dim = cfg["kv_channels"]
        self.rotary_pos_emb = ChatGLMRotaryEmbedding(rotary_dim // 2, cfg["rope_ratio"])
        self.encoder = GLMTransformer(cfg, variant)
        self.output_layer = nn.Linear(cfg["hidden_size"], cfg["padded_vocab_size"], bias=False)

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.embedding(input_ids)
        rope_cache = self.rotary_pos_emb(positions, h.dtype)
        return self.encoder(h, rope_cache, positions, k_cache, v_cache)


class ChatGLMForConditionalGeneration(CausalLM):
    architecture = "ChatGLMForConditionalGeneration"
    base_model_prefix = "transformer"
    lm_head_name = "transformer.output_layer"
    config_aliases = _ALIASES
    final_norm_names = ("transformer.encoder.final_layernorm",)

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.tie_word_embeddings = False  # the original never ties output_layer
        self.transformer = GLMTransformerModel(self.config, self.variant)
        self._freeze()

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        for key, reason in (("fp32_residual_connection", "f32 residual stream"),
                            ("pre_seq_len", "P-tuning prefix encoder"),
                            ("quantization_bit", "quantized weights")):
            if cfg.get(key):
                raise NotImplementedError(f"ChatGLM {key}={cfg[key]!r} ({reason}) is not supported by the reference")
        if cfg.get("kv_channels") is None:
            raise ValueError("ChatGLM kv_channels must be set (the original computes kv_channels * heads)")
        heads = cfg["num_attention_heads"]
        groups = cfg["multi_query_group_num"] if cfg["multi_query_attention"] else heads
        if heads % groups:
            raise ValueError(f"ChatGLM num_attention_heads ({heads}) must be a multiple of "
                             f"multi_query_group_num ({groups})")
        cfg.update(vocab_size=cfg["padded_vocab_size"], num_hidden_layers=cfg["num_layers"],
                   max_position_embeddings=cfg["seq_length"], num_key_value_heads=groups,
                   head_dim=cfg["kv_channels"], intermediate_size=cfg["ffn_hidden_size"])
        return cfg

    @property
    def optional_checkpoint_tensors(self) -> List[str]:
        return ["transformer.rotary_pos_emb.inv_freq"]


class ChatGLMModel(ChatGLMForConditionalGeneration):
    """``architectures: ["ChatGLMModel"]`` (chatglm2/3, glm-4 configs): the same causal LM."""

    architecture = "ChatGLMModel"


models.register_architecture(ChatGLMModel, _CHATGLM_DEFAULTS)  # first: model_type "chatglm" -> ChatGLMModel
models.register_architecture(ChatGLMForConditionalGeneration, _CHATGLM_DEFAULTS)

_GENERIC_TO_CHATGLM = (
    ("vocab_size", "padded_vocab_size"),
    ("num_hidden_layers", "num_layers"),
    ("max_position_embeddings", "seq_length"),
    ("num_key_value_heads", "multi_query_group_num"),
    ("head_dim", "kv_channels"),
    ("intermediate_size", "ffn_hidden_size"),
    ("rms_norm_eps", "layernorm_epsilon"),
)


def _tiny_adjust(config: dict, size_overrides: dict) -> None:
    """Generic size overrides (make_tiny_model --layers, --kv-heads, ...) onto ChatGLM's own fields."""
    for generic, own in _GENERIC_TO_CHATGLM:
        if generic in config:
            config[own] = config.pop(generic)
    resized = "hidden_size" in size_overrides or "num_attention_heads" in size_overrides
    if "head_dim" not in size_overrides and resized:
        config["kv_channels"] = config["hidden_size"] // config["num_attention_heads"]
    tiny.reject_overrides(size_overrides, ("sliding_window", "rope_theta"), "ChatGLM",
                          " (use --set rope_ratio=R to scale the RoPE base)")


_TINY_CHATGLM = {
    "padded_vocab_size": 250,
    "hidden_size": 64,
    "num_layers": 2,
    "num_attention_heads": 4,
    "kv_channels": 16,
    "multi_query_attention": True,
    "multi_query_group_num": 2,
    "ffn_hidden_size": 128,
    "seq_length": 128,
    "layernorm_epsilon": 1e-5,
    "rmsnorm": True,
    "apply_residual_connection_post_layernorm": False,
    "post_layer_norm": True,
    "add_bias_linear": False,
    "add_qkv_bias": True,
    "apply_query_key_layer_scaling": True,
    "attention_softmax_in_fp32": True,
    "original_rope": True,
    "rope_ratio": 1,
    "tie_word_embeddings": False,
    "eos_token_id": 2,
    "pad_token_id": 0,
}
# ChatGLMModel: chatglm3-6b-like; ChatGLMForConditionalGeneration: GLM-4-like (rope_ratio 500, its eps).
tiny.register_tiny_preset("ChatGLMModel", _TINY_CHATGLM, adjust=_tiny_adjust)
tiny.register_tiny_preset("ChatGLMForConditionalGeneration",
                          dict(_TINY_CHATGLM, rope_ratio=500, layernorm_epsilon=1.5625e-07), adjust=_tiny_adjust)
