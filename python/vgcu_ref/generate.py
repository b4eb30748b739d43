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
    """
    if not prompt_ids:
        raise ValueError("the prompt must contain at least one token")
    needed = len(prompt_ids) + max(max_new_tokens, 1) - 1
    if k_cache.shape[1] < needed:
        raise ValueError(f"KV cache holds {k_cache.shape[1]} positions, decoding needs {needed}")
    generated: List[int] = []
    with torch.no_grad():
        logits = model.forward_with_cache(
            torch.tensor(list(prompt_ids), dtype=torch.long),
            torch.arange(len(prompt_ids), dtype=torch.long),
            k_cache,
            v_cache,
        )
        first_logits = logits[-1].float().clone()
        position = len(prompt_ids)
        while len(generated) < max_new_tokens:
            generated.append(_argmax(logits[-1]))
            if len(generated) == max_new_tokens:
                break
            logits = model.forward_with_cache(
                torch.tensor([generated[-1]], dtype=torch.long),
                torch.tensor([position], dtype=torch.long),
                k_cache,
                v_cache,
            )
            position += 1
    return generated, first_logits
