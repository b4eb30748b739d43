"""Loading and saving HF-style model directories (config.json + safetensors) for the reference models."""

import json
import os
from typing import Dict, Iterable, Mapping, Optional, Union

import torch

from .models import CausalLM, build_model
from .safetensors_io import has_checkpoint, load_checkpoint, save_checkpoint

CONFIG_FILE = "config.json"

DTYPES = {
    "f32": torch.float32,
    "float32": torch.float32,
    "bf16": torch.bfloat16,
    "bfloat16": torch.bfloat16,
    "f16": torch.float16,
    "float16": torch.float16,
}
HF_DTYPE_NAMES = {torch.float32: "float32", torch.bfloat16: "bfloat16", torch.float16: "float16"}

# Tensors some HF checkpoints carry that are not model weights (HF ignores them on load as well).
_IGNORED_SUFFIXES = ("rotary_emb.inv_freq",)


def parse_dtype(name: str) -> torch.dtype:
    """Map f32/bf16/f16 (or float32/bfloat16/float16) to a torch dtype."""
    try:
        return DTYPES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown dtype {name!r}; use f32, bf16 or f16") from None


def check_compute_dtype(dtype: torch.dtype) -> None:
    """Raise a clear error if this torch build cannot run the models in ``dtype`` on CPU."""
    try:
        x = torch.ones(2, 2, dtype=dtype)
        torch.nn.functional.linear(x, x, x[0])
        torch.nn.functional.silu(x)
        torch.rsqrt(x)
    except RuntimeError as e:
        raise RuntimeError(
            f"torch {torch.__version__} cannot compute in {dtype} on CPU ({e}); use f32 "
            "(16-bit checkpoints are upcast exactly) or bf16"
        ) from None


def read_config(model_dir: str) -> dict:
    with open(os.path.join(model_dir, CONFIG_FILE)) as f:
        return json.load(f)


def write_config(model_dir: str, config: Mapping) -> None:
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, CONFIG_FILE), "w") as f:
        json.dump(dict(config), f, indent=2, sort_keys=True)
        f.write("\n")


def load_weights(model: CausalLM, tensors: Mapping[str, torch.Tensor]) -> None:
    """Copy checkpoint tensors into ``model`` (casting to its dtype), strictly.

    Every model parameter must be provided and every checkpoint tensor must be used; shapes must
    match. Tolerated like HF does: names without the ``model.`` prefix (base-model checkpoints such as
    facebook/opt-*), stale ``rotary_emb.inv_freq`` buffers, and a redundant ``lm_head.weight`` equal to
    the tied embedding.
    """
    expected = model.checkpoint_state_dict()
    # Family attributes (models.CausalLM documents them): HF's base_model_prefix ("transformer" for
    # GPT-2 / ChatGLM), the LM head and the embedding it is tied to, and buffers a checkpoint may or
    # may not hold (loaded when present: Baichuan-7B / ChatGLM rotary inv_freq).
    prefix = getattr(model, "base_model_prefix", "model") + "."
    head_name = getattr(model, "lm_head_name", "lm_head") + ".weight"
    optional = set(getattr(model, "optional_checkpoint_tensors", ()))
    given: Dict[str, torch.Tensor] = {}
    for name, tensor in tensors.items():
        if name not in expected and prefix + name in expected:
            name = prefix + name
        if name in given:
            raise ValueError(f"checkpoint provides {name} twice")
        given[name] = tensor
    for name in [n for n in given if n.endswith(_IGNORED_SUFFIXES) and n not in optional]:
        del given[name]
    # Families may declare checkpoint tensors that are not part of the model (DeepSeek-V3's MTP layers).
    ignored = getattr(model, "ignored_checkpoint_tensor", None)
    if ignored is not None:
        for name in [n for n in given if ignored(n)]:
            del given[name]
    if model.tie_word_embeddings and head_name in given:
        lm_head = given.pop(head_name)
        embed_name = getattr(model, "tied_embedding_name", None) or next(
            n for n in expected if n.endswith("embed_tokens.weight"))
        embed = given.get(embed_name)
        if embed is None or not torch.equal(lm_head.to(embed.dtype), embed):
            raise ValueError("checkpoint has lm_head.weight different from the tied embedding")
    missing = sorted(set(expected) - set(given) - optional)
    unexpected = sorted(set(given) - set(expected))
    if missing or unexpected:
        raise ValueError(
            f"checkpoint does not match {model.architecture}: "
            f"missing {len(missing)} {missing[:10]}, unexpected {len(unexpected)} {unexpected[:10]}"
        )
    for name, tensor in given.items():
        if tuple(tensor.shape) != tuple(expected[name].shape):
            raise ValueError(f"{name}: checkpoint shape {tuple(tensor.shape)} != model {tuple(expected[name].shape)}")
    with torch.no_grad():
        for name, tensor in given.items():
            expected[name].copy_(tensor)  # state_dict tensors alias the parameters


def load_model(
    model_dir: str,
    dtype: torch.dtype = torch.float32,
    variant: Union[None, str, Iterable[str]] = None,
) -> CausalLM:
    """Build the reference model from ``model_dir/config.json`` and load its safetensors weights."""
    check_compute_dtype(dtype)
    model = build_model(read_config(model_dir), variant=variant, dtype=dtype)
    load_weights(model, load_checkpoint(model_dir))
    return model


def save_model(
    model: CausalLM,
    out_dir: str,
    dtype: torch.dtype = torch.float32,
    num_shards: int = 1,
    extra_config: Optional[Mapping] = None,
) -> None:
    """Write config.json (with torch_dtype) and the checkpoint tensors in ``dtype`` to ``out_dir``."""
    config = dict(model.config)
    for key in getattr(model, "config_aliases", ()):  # derived keys that the HF config class lacks
        config.pop(key, None)
    config["torch_dtype"] = HF_DTYPE_NAMES[dtype]
    config.update(extra_config or {})
    tensors = {name: t.to(dtype) for name, t in model.checkpoint_state_dict().items()}
    save_checkpoint(tensors, out_dir, num_shards, metadata={"format": "pt"})
    write_config(out_dir, config)


__all__ = [
    "check_compute_dtype",
    "has_checkpoint",
    "load_model",
    "load_weights",
    "parse_dtype",
    "read_config",
    "save_model",
    "write_config",
]
