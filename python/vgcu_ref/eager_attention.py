"""Attention pieces shared by the references (flat-sequence API; masks derived from positions).

``causal_mask``, ``repeat_kv`` and ``softmax_output`` (finfo.min mask, softmax in float32 cast back,
times v) are the HF eager attention steps shared by ``models.AttentionCore`` (Llama family, Gemma,
Phi3, MoE, DeepSeek MLA) and ``divided_attention``. ``divided_attention`` is the eager attention of
the transformers 4.2x/4.3x Llama code that the InternLM2 and Baichuan remote code copied
(``matmul(q, k^T) / math.sqrt(head_dim)`` in the model dtype, additive ``finfo.min`` mask, softmax in
float32 cast back, ``matmul(probs, v)``). ``config_alias_check`` applies HF ``attribute_map`` style
aliases (GPT-2's ``hidden_size`` -> ``n_embd``, ...).
"""

import math
from typing import Dict, Iterable, Optional, Tuple

import torch
import torch.nn.functional as F


def causal_mask(q_positions: torch.Tensor, k_positions: torch.Tensor,
                sliding_window: Optional[int] = None) -> torch.Tensor:
    """[T, S] bool, True = hidden: key after the query, or (sliding window W) pos_q - pos_k >= W."""
    masked = k_positions[None, :] > q_positions[:, None]
    if sliding_window is not None:
        masked = masked | (q_positions[:, None] - k_positions[None, :] >= sliding_window)
    return masked


def repeat_kv(x: torch.Tensor, kv_groups: int, expand: bool, num_heads: int, head_dim: int) -> torch.Tensor:
    """[S, KVH, D] -> [S, KVH * groups, D]; kv head j serves query heads j*groups .. (j+1)*groups-1."""
    if kv_groups == 1:
        return x
    if expand:  # HF repeat_kv spelling
        return x[:, :, None, :].expand(-1, -1, kv_groups, -1).reshape(-1, num_heads, head_dim)
    return x.repeat_interleave(kv_groups, dim=1)


def soft_cap(x: torch.Tensor, cap: float) -> torch.Tensor:
    """Gemma 2's tanh soft-capping, in x's dtype: tanh(x / cap) * cap."""
    x = x / cap
    x = torch.tanh(x)
    return x * cap


def softmax_output(scores: torch.Tensor, v: torch.Tensor, masked: torch.Tensor, width: int) -> torch.Tensor:
    """scores [H, T, S], v [S, H, D] -> [T, width = H * D]: HF eager's additive finfo.min mask (here
    masked_fill: the same probabilities, exactly 0 where masked), softmax in float32 cast back, @ v."""
    scores = scores.masked_fill(masked, torch.finfo(scores.dtype).min)
    probs = F.softmax(scores, dim=-1, dtype=torch.float32).to(scores.dtype)
    out = torch.matmul(probs, v.transpose(0, 1))  # [H, T, D]
    return out.transpose(0, 1).reshape(-1, width)


def divided_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    q_positions: torch.Tensor,
    k_positions: torch.Tensor,
    num_heads: int,
    head_dim: int,
    kv_groups: int,
    expand_kv: bool,
) -> torch.Tensor:
    """q: [T, H, D]; k, v: [S, KVH, D]. Returns [T, H * D] (HF 4.3x Llama-style eager attention).

        scores = matmul(q, k^T) / math.sqrt(head_dim)           (model dtype; a true division)
        scores = scores + mask      (mask = 0 or finfo(dtype).min; here masked_fill, the same values)
        probs  = softmax(scores, -1, dtype=float32).to(dtype)
        out    = matmul(probs, v)
    Key j is masked for query i when positions[j] > positions[i].
    """
    k = repeat_kv(k, kv_groups, expand_kv, num_heads, head_dim)
    v = repeat_kv(v, kv_groups, expand_kv, num_heads, head_dim)
    # A true division by sqrt(D), not AttentionCore's multiply by D ** -0.5: they round differently.
    scores = torch.matmul(q.transpose(0, 1), k.permute(1, 2, 0)) / math.sqrt(head_dim)  # [H, T, S]
    return softmax_output(scores, v, causal_mask(q_positions, k_positions), num_heads * head_dim)


def config_alias_check(cfg: dict, aliases: Iterable[Tuple[str, str]], family: str) -> Dict[str, str]:
    """Apply HF ``attribute_map`` aliases (alias -> canonical key) the way PretrainedConfig does.

    A config may carry an alias (e.g. ``hidden_size`` for GPT-2's ``n_embd``); HF's config class sets
    the canonical attribute from it after its own ``__init__`` arguments, so the alias wins.
    """
    for alias, key in aliases:
        if cfg.get(alias) is not None:
            cfg[key] = cfg[alias]
    return cfg
