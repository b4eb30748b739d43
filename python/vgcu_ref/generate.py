"""Greedy decoding helpers for reference models and their TorchScript traces (flat-sequence API)."""

from typing import List, Sequence, Tuple

import torch


def _argmax(row: torch.Tensor) -> int:
    # torch.argmax returns the first maximal index, so ties resolve to the lowest token id.
    return int(torch.argmax(row))


def greedy_generate(model, prompt_ids: Sequence[int], max_new_tokens: int) -> Tuple[List[int], torch.Tensor]:
    """Greedy decoding that recomputes the whole sequence every step via ``model(input_ids, positions)``.

    Works with eager models and traced modules. Generates exactly ``max_new_tokens`` tokens (no EOS
    stop). Returns (generated ids, float32 logits row of the last prompt token from the first forward).
    """
    if not prompt_ids:
        raise ValueError("the prompt must contain at least one token")
    ids = list(prompt_ids)
    first_logits = None
    with torch.no_grad():
        for _ in range(max(max_new_tokens, 1)):
            logits = model(torch.tensor(ids, dtype=torch.long), torch.arange(len(ids), dtype=torch.long))
            if first_logits is None:
                first_logits = logits[len(prompt_ids) - 1].float().clone()
                if max_new_tokens == 0:
                    break
            ids.append(_argmax(logits[-1]))
    return ids[len(prompt_ids):], first_logits


def greedy_generate_with_cache(
    model,
    prompt_ids: Sequence[int],
    max_new_tokens: int,
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
) -> Tuple[List[int], torch.Tensor]:
    """Greedy decoding via ``model.forward_with_cache``: one prefill, then one token per step.

    The caches ([layers, max_len, kv_heads, head_dim]) are written in place and must hold
    len(prompt) + max_new_tokens - 1 positions. Same return value as ``greedy_generate``.

    A model with ``reprefill_at_length = L`` (Phi3 with rope_scaling) recomputes the whole sequence
    instead of decoding one token when the sequence reaches L tokens, as HF's generate does for it.
    """
    generated, first_logits, _ = _cached_decode(model, prompt_ids, max_new_tokens, k_cache, v_cache)
    return generated, first_logits


def teacher_forced_with_cache(
    model,
    prompt_ids: Sequence[int],
    forced_ids: Sequence[int],
    k_cache: torch.Tensor,
    v_cache: torch.Tensor,
) -> List[int]:
    """Greedy choice after the prompt and after each prefix of ``forced_ids``, computed like a cached
    generation that was fed ``forced_ids`` (prefill, then one call per token, re-prefills included).

    Differs from one full forward over prompt + forced_ids only for rope types whose frequencies
    depend on each call's positions (dynamic, longrope). Returns len(forced_ids) predictions.
    """
    if not forced_ids:
        return []
    _, _, predictions = _cached_decode(model, prompt_ids, len(forced_ids), k_cache, v_cache, list(forced_ids))
    return predictions


def _cached_decode(model, prompt_ids, max_new_tokens, k_cache, v_cache, forced=None):
    """Prefill + one call per token; feeds argmax (or ``forced[i]``). Returns (fed tokens, first
    logits row, argmax after every call)."""
    if not prompt_ids:
        raise ValueError("the prompt must contain at least one token")
    needed = len(prompt_ids) + max(max_new_tokens, 1) - 1
    if k_cache.shape[1] < needed:
        raise ValueError(f"KV cache holds {k_cache.shape[1]} positions, decoding needs {needed}")
    reprefill_at = getattr(model, "reprefill_at_length", None)
    ids = list(prompt_ids)
    generated: List[int] = []
    predictions: List[int] = []
    with torch.no_grad():
        logits = model.forward_with_cache(
            torch.tensor(ids, dtype=torch.long), torch.arange(len(ids), dtype=torch.long), k_cache, v_cache
        )
        first_logits = logits[-1].float().clone()
        while len(generated) < max_new_tokens:
            predictions.append(_argmax(logits[-1]))
            generated.append(predictions[-1] if forced is None else forced[len(generated)])
            if len(generated) == max_new_tokens:
                break
            ids.append(generated[-1])
            position = len(ids) - 1
            if len(ids) == reprefill_at:  # HF drops the cache here and recomputes everything
                new_ids, new_positions = ids, list(range(len(ids)))
            else:
                new_ids, new_positions = [ids[-1]], [position]
            logits = model.forward_with_cache(
                torch.tensor(new_ids, dtype=torch.long),
                torch.tensor(new_positions, dtype=torch.long),
                k_cache,
                v_cache,
            )
    return generated, first_logits, predictions
