"""vgcu reference models: HF-exact PyTorch LLMs, safetensors I/O and tiny test checkpoints."""

from .checkpoint import load_model, load_weights, parse_dtype, read_config, save_model
from .generate import greedy_generate, greedy_generate_with_cache
from .models import VARIANTS, CausalLM, build_model, resolve_config
from .tiny import init_random_weights, tiny_config

__all__ = [
    "VARIANTS",
    "CausalLM",
    "build_model",
    "greedy_generate",
    "greedy_generate_with_cache",
    "init_random_weights",
    "load_model",
    "load_weights",
    "parse_dtype",
    "read_config",
    "resolve_config",
    "save_model",
    "tiny_config",
]
