"""What attention reads back from vgcu's quantized KV cache (vgcu-compile --kv-cache-dtype).

Every cached key (value) vector of a head is stored as int8 or FP8 E4M3 codes with one f32 scale,
its largest magnitude over the largest code (127 or 448), and read back as code * scale rounded to
the model dtype. The scales depend on the vector alone, so the reference applies the same round trip
to the keys and values it attends over, cached or not. ``set_kv_cache_dtype`` selects it for the
whole process (run_reference.py --kv-cache-dtype).
"""

from typing import Optional

import torch

from .quant import FP8_E4M3_MAX, fp8_decode, fp8_encode

_LARGEST_CODE = {"int8": 127.0, "fp8_e4m3": FP8_E4M3_MAX}
_mode: Optional[str] = None


def set_kv_cache_dtype(dtype: str) -> None:
    """'auto' (cache in the model dtype), 'int8' or 'fp8_e4m3'."""
    global _mode
    if dtype != "auto" and dtype not in _LARGEST_CODE:
        raise ValueError(f"kv cache dtype must be auto, int8 or fp8_e4m3, not {dtype!r}")
    _mode = None if dtype == "auto" else dtype


def round_trip(x: torch.Tensor, dtype: Optional[str] = None) -> torch.Tensor:
    """Vectors along the last dimension through the cache's codes and back, in x's dtype."""
    mode = dtype or _mode
    if mode is None:
        return x
    largest = _LARGEST_CODE[mode]
    f = x.float()
    scale = f.abs().amax(-1, keepdim=True) / largest
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    scaled = torch.nan_to_num(f / scale, 0.0, 0.0, 0.0).clamp(-largest, largest)
    codes = torch.round(scaled) if mode == "int8" else fp8_decode(fp8_encode(scaled))
    return (codes * scale).to(x.dtype)
