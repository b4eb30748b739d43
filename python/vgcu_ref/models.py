"""PyTorch reference implementations of Hugging Face causal LMs over one flattened token sequence.

Supported architectures (``config["architectures"][0]``): LlamaForCausalLM, MistralForCausalLM,
Qwen2ForCausalLM, Qwen3ForCausalLM, OPTForCausalLM, plus the families registered from their own
modules (``families.py``: e.g. internlm2.py, baichuan.py, chatglm.py, gpt2.py). Module attribute names mirror Hugging Face, so
``state_dict`` keys are HF checkpoint tensor names (``model.layers.0.self_attn.q_proj.weight``,
``model.decoder.layers.0.fc1.bias``, ...).

Interface (vLLM style, no batch dimension; the C++ compiler mirrors it):

    logits = model(input_ids, positions)
        input_ids: LongTensor[T]   token ids of one flattened sequence
        positions: LongTensor[T]   absolute position of each token (0-based)
        logits:    FloatTensor[T, vocab_size]   (float32 whatever the compute dtype)

    logits = model.forward_with_cache(input_ids, positions, k_cache, v_cache)
        k_cache, v_cache: Tensor[num_layers, max_len, num_kv_heads, head_dim] in the model dtype
                          (``model.new_kv_cache(max_len)`` allocates zeroed ones).
        Writes the new tokens' keys/values IN PLACE into cache slot ``positions[i]`` of every layer,
        then attends over all ``max_len`` slots, masking slots after the query position (and outside
        the sliding window). Prefill T tokens, then decode one token at a time with positions
        T, T+1, ...; the results equal ``forward`` over the whole sequence (up to float summation
        order). Slot index == absolute position, so positions must be < max_len.

Masking is computed from positions, never from sizes: key j is hidden from query i when
``positions[j] > positions[i]`` or, with a sliding window W, when ``positions[i] - positions[j] >= W``.
Everything is traceable with ``torch.jit.trace`` / ``torch.jit.trace_module`` (torch 1.13) with a
dynamic token count: no Python int derived from the input length is ever used.

Numerics follow HF eager attention: RMSNorm in float32 cast back before the weight multiply, rotary
cos/sin computed in float32 (times the yarn/longrope attention factor; every rope_scaling type, see
rope.py) and cast to the model dtype, scores scaled in the model dtype, softmax in
float32 cast back, logits computed in the model dtype then upcast to float32.

``variant`` (a set of strings) selects alternative but mathematically equivalent spellings, used to
test a compiler's pattern matching. The default is the plain HF spelling.
    sqrt_div      RMSNorm as ``h / torch.sqrt(var + eps)`` instead of ``h * torch.rsqrt(var + eps)``
    mul_square    RMSNorm variance from ``h * h`` instead of ``h.pow(2)``
    weight_first  RMSNorm scale multiply with the operands swapped: ``normed * weight``
                  (HF itself writes ``weight * normed``)
    sigmoid_silu  SiLU as ``x * torch.sigmoid(x)`` instead of ``F.silu(x)``
    expand_kv     grouped KV heads via ``expand`` + ``reshape`` instead of ``repeat_interleave``
Variants that do not apply to an architecture (OPT has LayerNorm, ReLU and no GQA) are no-ops.
"""

from typing import Dict, Iterable, List, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from . import kv_quant
from .eager_attention import causal_mask, repeat_kv, soft_cap, softmax_output
from .rope import apply_rotary, build_rotary_embedding, init_inv_freq

VARIANTS = frozenset({"sqrt_div", "sigmoid_silu", "expand_kv", "mul_square", "weight_first"})

# Defaults exactly as the Hugging Face config classes define them. ``None`` entries are derived in
# ``resolve_config`` (num_key_value_heads -> num_attention_heads, head_dim -> hidden/heads,
# word_embed_proj_dim -> hidden_size).
ROPE_COMMON_DEFAULTS = {
    "hidden_act": "silu",
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-6,
    "use_cache": True,
    "tie_word_embeddings": False,
    "rope_theta": 10000.0,
    "rope_scaling": None,
    "attention_dropout": 0.0,
    "head_dim": None,
}

ARCH_DEFAULTS: Dict[str, dict] = {
    "LlamaForCausalLM": {
        **ROPE_COMMON_DEFAULTS,
        "model_type": "llama",
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": None,
        "max_position_embeddings": 2048,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": None,
        "pretraining_tp": 1,
        "attention_bias": False,
        "mlp_bias": False,
    },
    "MistralForCausalLM": {
        **ROPE_COMMON_DEFAULTS,
        "model_type": "mistral",
        "vocab_size": 32000,
        "hidden_size": 4096,
        "intermediate_size": 14336,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,  # MistralConfig's default really is 8, not num_attention_heads
        "max_position_embeddings": 4096 * 32,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": None,
        "sliding_window": 4096,
    },
    "Qwen2ForCausalLM": {
        **ROPE_COMMON_DEFAULTS,
        "model_type": "qwen2",
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "max_position_embeddings": 32768,
        "use_sliding_window": False,
        "sliding_window": 4096,
        "max_window_layers": 28,
        "layer_types": None,
    },
    "Qwen3ForCausalLM": {
        **ROPE_COMMON_DEFAULTS,
        "model_type": "qwen3",
        "vocab_size": 151936,
        "hidden_size": 4096,
        "intermediate_size": 22016,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "head_dim": 128,
        "max_position_embeddings": 32768,
        "attention_bias": False,
        "use_sliding_window": False,
        "sliding_window": 4096,
        "max_window_layers": 28,
        "layer_types": None,
    },
    "OPTForCausalLM": {
        "model_type": "opt",
        "vocab_size": 50272,
        "hidden_size": 768,
        "num_hidden_layers": 12,
        "ffn_dim": 3072,
        "max_position_embeddings": 2048,
        "do_layer_norm_before": True,
        "_remove_final_layer_norm": False,
        "word_embed_proj_dim": None,
        "dropout": 0.1,
        "attention_dropout": 0.0,
        "num_attention_heads": 12,
        "activation_function": "relu",
        "layerdrop": 0.0,
        "init_std": 0.02,
        "use_cache": True,
        "pad_token_id": 1,
        "bos_token_id": 2,
        "eos_token_id": 2,
        "enable_bias": True,
        "layer_norm_elementwise_affine": True,
        "tie_word_embeddings": True,
    },
}

_MODEL_TYPE_TO_ARCH = {d["model_type"]: arch for arch, d in ARCH_DEFAULTS.items()}


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


def architecture_of(config: dict) -> str:
    """The architecture name of an HF config dict (``architectures[0]``, else from ``model_type``)."""
    archs = config.get("architectures") or []
    if archs:
        arch = archs[0]
    elif config.get("model_type") in _MODEL_TYPE_TO_ARCH:
        arch = _MODEL_TYPE_TO_ARCH[config["model_type"]]
    else:
        raise ValueError("config has neither 'architectures' nor a known 'model_type'")
    if arch not in ARCH_DEFAULTS:
        raise ValueError(f"unsupported architecture {arch!r}; supported: {', '.join(ARCH_DEFAULTS)}")
    return arch


def resolve_config(config: dict) -> dict:
    """Return a copy of an HF config dict with every field the model reads filled in.

    Missing keys take HF's config-class defaults; ``num_key_value_heads``, ``head_dim`` and (OPT)
    ``word_embed_proj_dim`` given as null/absent are derived the way HF derives them. Fields that HF
    gates at model-construction time (Qwen2/3 ``use_sliding_window``) are kept as written; see
    ``layer_sliding_windows`` for the effective per-layer window.
    """
    arch = architecture_of(config)
    cfg = dict(ARCH_DEFAULTS[arch])
    cfg.update(config)
    cfg["architectures"] = [arch]
    family_hook = getattr(MODEL_CLASSES.get(arch), "resolve_family_config", None)
    if family_hook is not None:  # architectures registered from their own module
        return family_hook(cfg)
    if arch == "OPTForCausalLM":  # no GQA, head_dim is always hidden_size / num_attention_heads
        if cfg.get("word_embed_proj_dim") is None:
            cfg["word_embed_proj_dim"] = cfg["hidden_size"]
        if cfg["hidden_size"] % cfg["num_attention_heads"]:
            raise ValueError("OPT hidden_size must be divisible by num_attention_heads")
        return cfg
    return resolve_heads(cfg)


def resolve_heads(cfg: dict) -> dict:
    """HF's GQA head fields: num_key_value_heads (null: num_attention_heads) and head_dim (null:
    hidden_size / num_attention_heads), num_attention_heads a multiple of num_key_value_heads."""
    if cfg.get("num_key_value_heads") is None:
        cfg["num_key_value_heads"] = cfg["num_attention_heads"]
    if cfg.get("head_dim") is None:
        cfg["head_dim"] = cfg["hidden_size"] // cfg["num_attention_heads"]
    if cfg["num_attention_heads"] % cfg["num_key_value_heads"]:
        raise ValueError(
            f"num_attention_heads ({cfg['num_attention_heads']}) must be a multiple of "
            f"num_key_value_heads ({cfg['num_key_value_heads']})"
        )
    return cfg


def layer_sliding_windows(cfg: dict) -> List[Optional[int]]:
    """Effective sliding window of each layer (None = full causal attention), as HF applies it."""
    arch = cfg["architectures"][0]
    n = cfg["num_hidden_layers"]
    family_hook = getattr(MODEL_CLASSES.get(arch), "family_sliding_windows", None)
    if family_hook is not None:
        return family_hook(cfg)
    if arch == "MistralForCausalLM":
        return [cfg.get("sliding_window")] * n
    if arch in ("Qwen2ForCausalLM", "Qwen3ForCausalLM"):
        window = cfg.get("sliding_window") if cfg.get("use_sliding_window") else None
        layer_types = cfg.get("layer_types")
        if layer_types is None:
            layer_types = [
                "sliding_attention" if window is not None and i >= cfg["max_window_layers"] else "full_attention"
                for i in range(n)
            ]
        if len(layer_types) != n:
            raise ValueError(f"layer_types has {len(layer_types)} entries for {n} layers")
        return [window if t == "sliding_attention" else None for t in layer_types]
    return [None] * n


def rope_inv_freq(cfg: dict) -> torch.Tensor:
    """Rotary inverse frequencies (float32, length rotary_dim/2) exactly as HF's rope init computes them.

    Every HF rope type is handled by ``rope.py`` (default, linear, dynamic, yarn, longrope, llama3;
    ``rope_scaling.type`` or ``rope_type``; v4 ``rope_theta``/``rope_scaling`` or v5
    ``rope_parameters``). For dynamic and longrope this is the init-time table; the per-call
    frequencies come from the model's ``rotary_emb``. Unknown types raise ValueError.
    """
    return init_inv_freq(cfg)


def parse_variant(variant: Union[None, str, Iterable[str]]) -> frozenset:
    """Normalize a variant spec (None, "a,b" or an iterable of names) and reject unknown names."""
    if variant is None:
        return frozenset()
    if isinstance(variant, str):
        variant = [v for v in variant.split(",") if v.strip()]
    names = frozenset(v.strip() for v in variant)
    unknown = names - VARIANTS
    if unknown:
        raise ValueError(f"unknown variant(s) {sorted(unknown)}; known: {sorted(VARIANTS)}")
    return names


# --------------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------------


class RMSNorm(nn.Module):
    """HF LlamaRMSNorm: normalize in float32, cast back, then multiply by the weight."""

    def __init__(self, dim: int, eps: float, variant: frozenset = frozenset()):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.variance_epsilon = eps
        self.sqrt_div = "sqrt_div" in variant
        self.mul_square = "mul_square" in variant
        self.weight_first = "weight_first" in variant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        input_dtype = x.dtype
        h = x.to(torch.float32)
        square = h * h if self.mul_square else h.pow(2)
        variance = square.mean(-1, keepdim=True)
        if self.sqrt_div:
            h = h / torch.sqrt(variance + self.variance_epsilon)
        else:
            h = h * torch.rsqrt(variance + self.variance_epsilon)
        h = h.to(input_dtype)
        return h * self.weight if self.weight_first else self.weight * h


class Activation(nn.Module):
    """HF ACT2FN activations used by the supported models (silu/swish, relu, gelu, gelu_pytorch_tanh)."""

    _NAMES = ("silu", "swish", "relu", "gelu", "gelu_pytorch_tanh")

    def __init__(self, name: str, variant: frozenset = frozenset()):
        super().__init__()
        if name not in self._NAMES:
            raise NotImplementedError(f"activation {name!r} is not supported; supported: {self._NAMES}")
        self.name = name
        self.sigmoid_silu = "sigmoid_silu" in variant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name in ("silu", "swish"):
            return x * torch.sigmoid(x) if self.sigmoid_silu else F.silu(x)
        if self.name == "relu":
            return F.relu(x)
        if self.name == "gelu":
            return F.gelu(x)
        return F.gelu(x, approximate="tanh")


class AttentionCore(nn.Module):
    """Head geometry plus HF eager attention over a flat sequence; base of the attention modules."""

    softcap: Optional[float] = None  # Gemma 2: tanh soft-capping of the scaled scores, before the mask

    def __init__(self, num_heads: int, num_kv_heads: int, head_dim: int, scaling: float,
                 sliding_window: Optional[int], expand_kv: bool):
        super().__init__()
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads
        self.head_dim = head_dim
        self.kv_groups = num_heads // num_kv_heads
        self.scaling = scaling
        self.sliding_window = sliding_window
        self.expand_kv = expand_kv

    def repeat_kv(self, x: torch.Tensor) -> torch.Tensor:
        """[S, KVH, D] -> [S, H, D]; kv head j serves query heads j*groups .. (j+1)*groups-1 (HF repeat_kv)."""
        return repeat_kv(x, self.kv_groups, self.expand_kv, self.num_heads, self.head_dim)

    def attend(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        q_positions: torch.Tensor,
        k_positions: torch.Tensor,
    ) -> torch.Tensor:
        """q: [T, H, D]; k, v: [S, KVH, D]; positions: [T] and [S]. Returns [T, H * D]."""
        k = self.repeat_kv(k)
        v = self.repeat_kv(v)
        scores = torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0))  # [H, T, S]
        if self.scaling != 1.0:  # a multiply by 1.0 is exact: skipping it changes nothing
            scores = scores * self.scaling
        if self.softcap is not None:
            scores = soft_cap(scores, self.softcap)
        masked = causal_mask(q_positions, k_positions, self.sliding_window)
        return softmax_output(scores, v, masked, self.num_heads * self.head_dim)


def _cached_keys_values(
    k: torch.Tensor,
    v: torch.Tensor,
    positions: torch.Tensor,
    k_cache: Optional[torch.Tensor],
    v_cache: Optional[torch.Tensor],
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keys/values to attend over and their positions; with a cache, store k/v at slots ``positions``.

    Under a quantized KV cache (kv_quant) both are what the cache reads back."""
    k, v = kv_quant.round_trip(k), kv_quant.round_trip(v)
    if k_cache is None or v_cache is None:
        return k, v, positions
    k_cache.index_copy_(0, positions, k)
    v_cache.index_copy_(0, positions, v)
    slot_positions = torch.arange(k_cache.size(0), dtype=positions.dtype, device=positions.device)
    return k_cache, v_cache, slot_positions


def layer_caches(layers: Iterable[nn.Module], k_cache: Optional[torch.Tensor], v_cache: Optional[torch.Tensor]):
    """(layer, its k_cache[i] or None, its v_cache[i] or None) for every layer i of a decoder stack."""
    for i, layer in enumerate(layers):
        yield layer, None if k_cache is None else k_cache[i], None if v_cache is None else v_cache[i]


# --------------------------------------------------------------------------------------------------
# Llama-family (Llama, Mistral, Qwen2, Qwen3)
# --------------------------------------------------------------------------------------------------


class Attention(AttentionCore):
    """Llama-style self-attention with GQA, rotary embeddings and optional Qwen3 per-head q/k norms."""

    def __init__(
        self,
        cfg: dict,
        *,
        qkv_bias: bool,
        o_bias: bool,
        qk_norm: bool,
        sliding_window: Optional[int],
        variant: frozenset,
    ):
        head_dim = cfg["head_dim"]
        super().__init__(cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim, head_dim ** -0.5,
                         sliding_window, "expand_kv" in variant)
        hidden = cfg["hidden_size"]
        self.q_proj = nn.Linear(hidden, self.num_heads * self.head_dim, bias=qkv_bias)
        self.k_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=qkv_bias)
        self.v_proj = nn.Linear(hidden, self.num_kv_heads * self.head_dim, bias=qkv_bias)
        self.o_proj = nn.Linear(self.num_heads * self.head_dim, hidden, bias=o_bias)
        self.qk_norm = qk_norm
        if qk_norm:
            self.q_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"], variant)
            self.k_norm = RMSNorm(self.head_dim, cfg["rms_norm_eps"], variant)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        positions: torch.Tensor,
        k_cache: Optional[torch.Tensor] = None,
        v_cache: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        q = self.q_proj(x).view(-1, self.num_heads, self.head_dim)
        k = self.k_proj(x).view(-1, self.num_kv_heads, self.head_dim)
        v = self.v_proj(x).view(-1, self.num_kv_heads, self.head_dim)
        if self.qk_norm:
            q = self.q_norm(q)
            k = self.k_norm(k)
        q = apply_rotary(q, cos, sin, self.head_dim // 2)
        k = apply_rotary(k, cos, sin, self.head_dim // 2)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        return self.o_proj(self.attend(q, k, v, positions, k_positions))


class GatedMLP(nn.Module):
    """Llama MLP: down_proj(act(gate_proj(x)) * up_proj(x)); also the experts of the MoE models.

    Families with other checkpoint names set ``names`` = (gate, up, down), and ``down_before_up`` when
    their original creates down before up (the parameter order, which init_random_weights follows).
    """

    names = ("gate_proj", "up_proj", "down_proj")
    down_before_up = False

    def __init__(self, hidden: int, inter: int, act: str, variant: frozenset, bias: bool = False):
        super().__init__()
        gate, up, down = self.names
        setattr(self, gate, nn.Linear(hidden, inter, bias=bias))
        if self.down_before_up:
            setattr(self, down, nn.Linear(inter, hidden, bias=bias))
        setattr(self, up, nn.Linear(hidden, inter, bias=bias))
        if not self.down_before_up:
            setattr(self, down, nn.Linear(inter, hidden, bias=bias))
        self.act_fn = Activation(act, variant)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up, down = (getattr(self, name) for name in self.names)
        return down(self.act_fn(gate(x)) * up(x))


class DecoderLayer(nn.Module):
    """Pre-norm decoder layer: x + attn(norm(x)), then x + mlp(norm(x)).

    ``names`` = checkpoint names of (attention, feed-forward, norm before attention, norm before the
    feed-forward): Llama's by default (Mixtral: block_sparse_moe; InternLM2: its own four).
    """

    names = ("self_attn", "mlp", "input_layernorm", "post_attention_layernorm")

    def __init__(self, cfg: dict, attention: nn.Module, mlp: nn.Module, variant: frozenset,
                 norm_class=RMSNorm, names: Optional[Tuple[str, str, str, str]] = None):
        super().__init__()
        if names is not None:
            self.names = tuple(names)
        attention_name, mlp_name, attention_norm, mlp_norm = self.names
        setattr(self, attention_name, attention)
        setattr(self, mlp_name, mlp)
        setattr(self, attention_norm, norm_class(cfg["hidden_size"], cfg["rms_norm_eps"], variant))
        setattr(self, mlp_norm, norm_class(cfg["hidden_size"], cfg["rms_norm_eps"], variant))

    def forward(self, h, cos, sin, positions, k_cache=None, v_cache=None):
        attention, mlp, attention_norm, mlp_norm = (getattr(self, name) for name in self.names)
        residual = h
        h = attention(attention_norm(h), cos, sin, positions, k_cache, v_cache)
        h = residual + h
        residual = h
        h = mlp(mlp_norm(h))
        return residual + h


class DecoderModel(nn.Module):
    """The ``model`` submodule of Llama-family checkpoints: embed_tokens, layers, norm, rotary_emb.

    ``rotary_emb`` defaults to the HF rotary of the config (every rope type, see rope.py); families
    naming the embedding otherwise set ``embed_name`` (InternLM2: tok_embeddings).
    """

    embed_name = "embed_tokens"

    def __init__(self, cfg: dict, layers: List[nn.Module], variant: frozenset, norm_class=RMSNorm,
                 rotary_emb: Optional[nn.Module] = None):
        super().__init__()
        setattr(self, self.embed_name, nn.Embedding(cfg["vocab_size"], cfg["hidden_size"]))
        self.layers = nn.ModuleList(layers)
        self.norm = norm_class(cfg["hidden_size"], cfg["rms_norm_eps"], variant)
        self.rotary_emb = build_rotary_embedding(cfg) if rotary_emb is None else rotary_emb

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.embed_name)(input_ids)

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.embed(input_ids)
        cos, sin = self.rotary_emb(positions, h.dtype)
        for layer, layer_k, layer_v in layer_caches(self.layers, k_cache, v_cache):
            h = layer(h, cos, sin, positions, layer_k, layer_v)
        return self.norm(h)


class CausalLM(nn.Module):
    """Shared top level of every *ForCausalLM: ``self.model`` + ``self.lm_head``, flat-sequence API."""

    architecture = ""
    # Naming attributes read by generic code (forward, checkpoint.py, tiny.py, run_reference.py);
    # families with other layouts override them (InternLM2, Baichuan, ChatGLM, GPT-2 modules).
    base_model_prefix = "model"  # HF base_model_prefix (the attribute forward calls): base-model checkpoints omit it
    lm_head_name = "lm_head"  # module holding the output projection
    tied_embedding_name = None  # checkpoint name of the embedding tied to it (None: *embed_tokens.weight)
    learned_positions = False  # positions index a table of max_position_embeddings rows (OPT, GPT-2)
    optional_checkpoint_tensors = ()  # buffers saved like the real checkpoints but optional on load
    config_aliases = ()  # derived config keys the HF config class lacks: not written to config.json

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__()
        self.config = resolve_config(config)
        if self.config["architectures"][0] != self.architecture:
            raise ValueError(f"{type(self).__name__} built from a {self.config['architectures'][0]} config")
        self.variant = parse_variant(variant)
        self.tie_word_embeddings = bool(self.config["tie_word_embeddings"])

    def _finish(self, embed_tokens: nn.Embedding, lm_head_in: int) -> None:
        """Adds the LM head (``lm_head_name``, tied to ``embed_tokens`` if configured), then freezes."""
        head = nn.Linear(lm_head_in, self.config["vocab_size"], bias=False)
        setattr(self, self.lm_head_name, head)
        if self.tie_word_embeddings:
            head.weight = embed_tokens.weight
        self._freeze()

    def _freeze(self) -> None:
        self.eval()
        self.requires_grad_(False)

    # --- geometry ---------------------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        return self.config["num_hidden_layers"]

    @property
    def num_kv_heads(self) -> int:
        return self.config["num_key_value_heads"]

    @property
    def head_dim(self) -> int:
        return self.config["head_dim"]

    @property
    def dtype(self) -> torch.dtype:
        return self.get_submodule(self.lm_head_name).weight.dtype

    # --- forward ----------------------------------------------------------------------------------
    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """The LM head in the model dtype, then upcast to float32."""
        return self.get_submodule(self.lm_head_name)(hidden).float()

    def forward(self, input_ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits [T, vocab] (float32) for one flattened sequence; see the module docstring."""
        return self._logits(getattr(self, self.base_model_prefix)(input_ids, positions))

    def forward_with_cache(
        self,
        input_ids: torch.Tensor,
        positions: torch.Tensor,
        k_cache: torch.Tensor,
        v_cache: torch.Tensor,
    ) -> torch.Tensor:
        """Like ``forward`` but reads/writes the KV cache in place; see the module docstring."""
        return self._logits(getattr(self, self.base_model_prefix)(input_ids, positions, k_cache, v_cache))

    def kv_cache_shape(self, max_len: int) -> Tuple[int, int, int, int]:
        """Shape of each of k_cache / v_cache: [num_layers, max_len, num_kv_heads, head_dim]."""
        return (self.num_layers, max_len, self.num_kv_heads, self.head_dim)

    def new_kv_cache(self, max_len: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """Zeroed (k_cache, v_cache) in the model dtype for sequences of up to ``max_len`` tokens."""
        shape = self.kv_cache_shape(max_len)
        return torch.zeros(shape, dtype=self.dtype), torch.zeros(shape, dtype=self.dtype)

    # --- checkpoints ------------------------------------------------------------------------------
    def checkpoint_state_dict(self) -> Dict[str, torch.Tensor]:
        """Tensors exactly as an HF checkpoint holds them (no lm_head.weight when embeddings are tied)."""
        state = self.state_dict()
        if self.tie_word_embeddings:
            state.pop(self.lm_head_name + ".weight")
        return state


class _RopeCausalLM(CausalLM):
    """Llama-family top level; subclasses choose biases, q/k norms and sliding windows."""

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        cfg = self.config
        windows = layer_sliding_windows(cfg)
        layers = []
        for i in range(cfg["num_hidden_layers"]):
            attention = Attention(cfg, sliding_window=windows[i], variant=self.variant, **self._attention_options())
            mlp = GatedMLP(cfg["hidden_size"], cfg["intermediate_size"], cfg["hidden_act"], self.variant,
                           bias=self._mlp_bias())
            layers.append(DecoderLayer(cfg, attention, mlp, self.variant))
        self.model = DecoderModel(cfg, layers, self.variant)
        self._finish(self.model.embed_tokens, cfg["hidden_size"])

    def _attention_options(self) -> dict:
        bias = bool(self.config.get("attention_bias", False))
        return {"qkv_bias": bias, "o_bias": bias, "qk_norm": False}

    def _mlp_bias(self) -> bool:
        return False


class LlamaForCausalLM(_RopeCausalLM):
    """HF LlamaForCausalLM: attention_bias on q/k/v/o, mlp_bias on gate/up/down."""

    architecture = "LlamaForCausalLM"

    def _mlp_bias(self) -> bool:
        return bool(self.config.get("mlp_bias", False))


class MistralForCausalLM(_RopeCausalLM):
    """HF MistralForCausalLM: no biases, every layer uses ``sliding_window`` (null = full attention)."""

    architecture = "MistralForCausalLM"

    def _attention_options(self) -> dict:
        return {"qkv_bias": False, "o_bias": False, "qk_norm": False}


class Qwen2ForCausalLM(_RopeCausalLM):
    """HF Qwen2ForCausalLM: q/k/v biases, no o_proj bias, optional sliding window on upper layers."""

    architecture = "Qwen2ForCausalLM"

    def _attention_options(self) -> dict:
        return {"qkv_bias": True, "o_bias": False, "qk_norm": False}


class Qwen3ForCausalLM(_RopeCausalLM):
    """HF Qwen3ForCausalLM: per-head RMSNorm on q and k before rotary, explicit head_dim."""

    architecture = "Qwen3ForCausalLM"

    def _attention_options(self) -> dict:
        bias = bool(self.config.get("attention_bias", False))
        return {"qkv_bias": bias, "o_bias": bias, "qk_norm": True}


# --------------------------------------------------------------------------------------------------
# OPT
# --------------------------------------------------------------------------------------------------


class OPTLearnedPositionalEmbedding(nn.Embedding):
    """Learned positions with HF's offset: table of max_position_embeddings + 2 rows, row = position + 2."""

    offset = 2

    def __init__(self, num_embeddings: int, embedding_dim: int):
        super().__init__(num_embeddings + self.offset, embedding_dim)

    def forward(self, positions: torch.Tensor) -> torch.Tensor:
        return super().forward(positions + self.offset)


class OPTAttention(AttentionCore):
    """OPT self-attention: q scaled by head_dim**-0.5 right after q_proj, no further score scaling."""

    def __init__(self, cfg: dict):
        dim = cfg["hidden_size"]
        heads = cfg["num_attention_heads"]
        super().__init__(heads, heads, dim // heads, 1.0, None, False)
        self.q_scaling = self.head_dim ** -0.5
        bias = bool(cfg["enable_bias"])
        self.k_proj = nn.Linear(dim, dim, bias=bias)
        self.v_proj = nn.Linear(dim, dim, bias=bias)
        self.q_proj = nn.Linear(dim, dim, bias=bias)
        self.out_proj = nn.Linear(dim, dim, bias=bias)

    def forward(self, x, positions, k_cache=None, v_cache=None):
        q = (self.q_proj(x) * self.q_scaling).view(-1, self.num_heads, self.head_dim)
        k = self.k_proj(x).view(-1, self.num_heads, self.head_dim)
        v = self.v_proj(x).view(-1, self.num_heads, self.head_dim)
        k, v, k_positions = _cached_keys_values(k, v, positions, k_cache, v_cache)
        return self.out_proj(self.attend(q, k, v, positions, k_positions))


class OPTDecoderLayer(nn.Module):
    """OPT layer; pre-LayerNorm when do_layer_norm_before (125m, 1.3b, ...), post-LayerNorm otherwise (350m)."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        dim = cfg["hidden_size"]
        affine = bool(cfg["layer_norm_elementwise_affine"])
        self.do_layer_norm_before = bool(cfg["do_layer_norm_before"])
        self.self_attn = OPTAttention(cfg)
        self.activation_fn = Activation(cfg["activation_function"], variant)
        self.self_attn_layer_norm = nn.LayerNorm(dim, elementwise_affine=affine)
        self.fc1 = nn.Linear(dim, cfg["ffn_dim"], bias=bool(cfg["enable_bias"]))
        self.fc2 = nn.Linear(cfg["ffn_dim"], dim, bias=bool(cfg["enable_bias"]))
        self.final_layer_norm = nn.LayerNorm(dim, elementwise_affine=affine)

    def forward(self, h, positions, k_cache=None, v_cache=None):
        residual = h
        if self.do_layer_norm_before:
            h = self.self_attn_layer_norm(h)
        h = residual + self.self_attn(h, positions, k_cache, v_cache)
        if not self.do_layer_norm_before:
            h = self.self_attn_layer_norm(h)
        residual = h
        if self.do_layer_norm_before:
            h = self.final_layer_norm(h)
        h = self.fc2(self.activation_fn(self.fc1(h)))
        h = residual + h
        if not self.do_layer_norm_before:
            h = self.final_layer_norm(h)
        return h


class OPTDecoder(nn.Module):
    """``model.decoder``: token + learned position embeddings, layers, optional final LayerNorm."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        if cfg["word_embed_proj_dim"] != cfg["hidden_size"]:
            raise NotImplementedError(
                f"OPT word_embed_proj_dim ({cfg['word_embed_proj_dim']}) != hidden_size ({cfg['hidden_size']}) "
                "needs project_in/project_out (OPT-350m), which the reference does not implement"
            )
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["word_embed_proj_dim"])
        self.embed_positions = OPTLearnedPositionalEmbedding(cfg["max_position_embeddings"], cfg["hidden_size"])
        if cfg["do_layer_norm_before"] and not cfg["_remove_final_layer_norm"]:
            self.final_layer_norm = nn.LayerNorm(
                cfg["hidden_size"], elementwise_affine=bool(cfg["layer_norm_elementwise_affine"])
            )
        else:
            self.final_layer_norm = None
        self.layers = nn.ModuleList([OPTDecoderLayer(cfg, variant) for _ in range(cfg["num_hidden_layers"])])

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        h = self.embed_tokens(input_ids) + self.embed_positions(positions)
        for layer, layer_k, layer_v in layer_caches(self.layers, k_cache, v_cache):
            h = layer(h, positions, layer_k, layer_v)
        if self.final_layer_norm is not None:
            h = self.final_layer_norm(h)
        return h


class OPTModel(nn.Module):
    """``model`` of OPTForCausalLM; only wraps ``decoder`` (mirrors HF naming)."""

    def __init__(self, cfg: dict, variant: frozenset):
        super().__init__()
        self.decoder = OPTDecoder(cfg, variant)

    def forward(self, input_ids, positions, k_cache=None, v_cache=None):
        return self.decoder(input_ids, positions, k_cache, v_cache)


class OPTForCausalLM(CausalLM):
    """HF OPTForCausalLM: LayerNorm, ReLU, biases everywhere, learned positions, tied lm_head."""

    architecture = "OPTForCausalLM"
    learned_positions = True

    def __init__(self, config: dict, variant: Union[None, str, Iterable[str]] = None):
        super().__init__(config, variant)
        self.model = OPTModel(self.config, self.variant)
        self._finish(self.model.decoder.embed_tokens, self.config["word_embed_proj_dim"])

    @property
    def num_kv_heads(self) -> int:
        return self.config["num_attention_heads"]

    @property
    def head_dim(self) -> int:
        return self.config["hidden_size"] // self.config["num_attention_heads"]


# --------------------------------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------------------------------

MODEL_CLASSES = {
    cls.architecture: cls
    for cls in (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, OPTForCausalLM)
}


def register_architecture(cls, defaults: dict) -> None:
    """Adds an architecture whose reference lives in a module of its own (``vgcu_ref/<family>.py``).

    ``defaults`` are the HF config class's defaults (with ``model_type``). The class may define
    ``resolve_family_config(cfg) -> cfg`` (a staticmethod deriving fields the way HF does) and
    ``family_sliding_windows(cfg) -> [window or None per layer]``; both replace the Llama/OPT logic of
    ``resolve_config`` and ``layer_sliding_windows`` for that architecture.
    """
    ARCH_DEFAULTS[cls.architecture] = dict(defaults)
    _MODEL_TYPE_TO_ARCH.setdefault(defaults["model_type"], cls.architecture)
    MODEL_CLASSES[cls.architecture] = cls


def build_model(
    config: dict,
    variant: Union[None, str, Iterable[str]] = None,
    dtype: torch.dtype = torch.float32,
) -> CausalLM:
    """Instantiate the reference model for ``config["architectures"][0]`` (eval mode, no grad).

    Parameters are left at PyTorch's default initialization; load a checkpoint or call
    ``vgcu_ref.tiny.init_random_weights`` before use. ``dtype`` is the compute dtype of parameters and
    activations (the rotary inv_freq buffer always stays float32).
    """
    model = MODEL_CLASSES[architecture_of(config)](config, variant)
    return model.to(dtype)


# Families with a module of their own register themselves on import (they use the blocks above).
from . import families  # noqa: E402,F401
