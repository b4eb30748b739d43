"""Minimal safetensors reader/writer (single files and HF-style sharded checkpoints), torch + stdlib only.

File layout: 8-byte little-endian u64 N, then N bytes of JSON header
``{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {str: str}}``
padded with spaces so N is a multiple of 8, then the data buffer. Offsets are relative to the start of
the data buffer; tensors are stored back to back in header order, row-major, little-endian, no gaps.

Sharded checkpoints are ``model-00001-of-0000N.safetensors`` files plus ``model.safetensors.index.json``
= ``{"metadata": {"total_size": <sum of tensor bytes>}, "weight_map": {name: file}}``.
Values are copied byte for byte (bf16 included), so save -> load round-trips exactly.

Float8 (``F8_E4M3``, as in DeepSeek-V3 and vLLM fp8 checkpoints): torch 1.13 has no float8 dtype, so
such tensors are read as uint8 bit patterns, and written from uint8 tensors named in ``dtypes``
(vgcu_ref/quant.py encodes and decodes the bits).
"""

import ctypes
import json
import os
import re
import struct
import sys
from typing import Dict, List, Mapping, Optional, Tuple

import torch

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
_SHARD_PATTERN = re.compile(r"model-\d{5}-of-\d{5}\.safetensors")

DTYPES: Dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
DTYPE_NAMES: Dict[torch.dtype, str] = {dtype: name for name, dtype in DTYPES.items()}
# Stored dtypes without a torch counterpart: held as raw bits in a tensor of the same element size.
# Kept out of DTYPES so that a plain uint8 tensor is still written as U8.
RAW_DTYPES: Dict[str, torch.dtype] = {"F8_E4M3": torch.uint8}

_MAX_HEADER_BYTES = 100 * 1024 * 1024

if sys.byteorder != "little":  # raw tensor bytes are written and read as-is
    raise ImportError("vgcu_ref.safetensors_io assumes a little-endian host")


class SafetensorsError(ValueError):
    """A file or index does not follow the safetensors format."""


def _tensor_nbytes(t: torch.Tensor) -> int:
    return t.numel() * t.element_size()


def _tensor_bytes(t: torch.Tensor) -> bytes:
    """Raw little-endian bytes of a contiguous CPU tensor (no numpy, exact for every dtype)."""
    nbytes = _tensor_nbytes(t)
    return ctypes.string_at(t.data_ptr(), nbytes) if nbytes else b""


def _torch_dtype(name: str) -> torch.dtype:
    """The torch dtype a stored dtype name is read into (KeyError if unknown)."""
    return DTYPES[name] if name in DTYPES else RAW_DTYPES[name]


def _dtype_name(name: str, tensor: torch.Tensor, dtypes: Optional[Mapping[str, str]]) -> str:
    stored = (dtypes or {}).get(name)
    if stored is None:
        return DTYPE_NAMES[tensor.dtype]
    if RAW_DTYPES.get(stored) != tensor.dtype:
        raise SafetensorsError(f"{name}: cannot store a {tensor.dtype} tensor as {stored}")
    return stored


def _prepare(name: str, tensor: torch.Tensor) -> torch.Tensor:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.dtype not in DTYPE_NAMES:
        raise SafetensorsError(f"{name}: dtype {tensor.dtype} cannot be stored in safetensors by this writer")
    return tensor.detach().to("cpu").contiguous()


def save_file(
    tensors: Mapping[str, torch.Tensor],
    path: str,
    metadata: Optional[Mapping[str, str]] = None,
    dtypes: Optional[Mapping[str, str]] = None,
) -> None:
    """Write ``tensors`` (in mapping order) to one safetensors file.

    ``dtypes`` maps tensor names to a RAW_DTYPES name to store their bits under (e.g. uint8 -> F8_E4M3).
    """
    prepared = {name: _prepare(name, t) for name, t in tensors.items()}
    header: Dict[str, object] = {}
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise SafetensorsError("__metadata__ keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, t in prepared.items():
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved and cannot name a tensor")
        end = offset + _tensor_nbytes(t)
        header[name] = {"dtype": _dtype_name(name, t, dtypes), "shape": list(t.shape),
                        "data_offsets": [offset, end]}
        offset = end
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    tmp_path = path + ".tmp"
    with open(tmp_path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for t in prepared.values():
            f.write(_tensor_bytes(t))
    os.replace(tmp_path, path)


def read_header(path: str) -> Tuple[dict, int]:
    """Parse and validate the header of ``path``; returns (header dict, byte offset of the data buffer)."""
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise SafetensorsError(f"{path}: file too short for a safetensors header")
        (n,) = struct.unpack("<Q", prefix)
        if n > _MAX_HEADER_BYTES or 8 + n > file_size:
            raise SafetensorsError(f"{path}: header length {n} is invalid for a {file_size}-byte file")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise SafetensorsError(f"{path}: header is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    data_start = 8 + n
    _validate_header(path, header, file_size - data_start)
    return header, data_start


def _validate_header(path: str, header: dict, data_size: int) -> None:
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"{path}: __metadata__ must map strings to strings")
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = _torch_dtype(info["dtype"])
            shape = [int(d) for d in info["shape"]]
            begin, end = (int(o) for o in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{path}: malformed or unsupported entry for {name!r}: {info}") from None
        numel = 1
        for d in shape:
            if d < 0:
                raise SafetensorsError(f"{path}: {name} has a negative dimension")
            numel *= d
        expected = numel * torch.empty((), dtype=dtype).element_size()
        if end - begin != expected:
            raise SafetensorsError(f"{path}: {name} spans {end - begin} bytes, shape/dtype need {expected}")
        spans.append((begin, end, name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin != position:
            raise SafetensorsError(f"{path}: {name} starts at {begin}, expected {position} (gap or overlap)")
        position = end
    if position != data_size:
        raise SafetensorsError(f"{path}: tensors cover {position} bytes but the data buffer has {data_size}")


def load_file(path: str) -> Dict[str, torch.Tensor]:
    """Read every tensor of one safetensors file (in data order) into owned CPU tensors (F8_E4M3 as uint8)."""
    header, data_start = read_header(path)
    with open(path, "rb") as f:
        f.seek(data_start)
        data = bytearray(f.read())
    entries = sorted(
        ((info["data_offsets"][0], name, info) for name, info in header.items() if name != "__metadata__"),
    )
    tensors: Dict[str, torch.Tensor] = {}
    for begin, name, info in entries:
        dtype = _torch_dtype(info["dtype"])
        shape = info["shape"]
        numel = 1
        for d in shape:
            numel *= d
        if numel == 0:
            tensors[name] = torch.empty(shape, dtype=dtype)
            continue
        flat = torch.frombuffer(data, dtype=dtype, count=numel, offset=begin)
        tensors[name] = flat.reshape(shape).clone()  # own (and align) the memory
    return tensors


def read_dtypes(path: str) -> Dict[str, str]:
    """Stored dtype name of every tensor of a safetensors file (tells F8_E4M3 from U8)."""
    return {name: info["dtype"] for name, info in read_header(path)[0].items() if name != "__metadata__"}


def read_metadata(path: str) -> Dict[str, str]:
    """The ``__metadata__`` dict of a safetensors file (empty if absent)."""
    return dict(read_header(path)[0].get("__metadata__", {}))


def shard_file_name(index: int, count: int) -> str:
    """HF shard naming: model-00001-of-00003.safetensors (1-based index)."""
    return f"model-{index:05d}-of-{count:05d}.safetensors"


def _partition(sizes: List[int], num_shards: int) -> List[List[int]]:
    """Split item indices into ``num_shards`` contiguous, non-empty groups of roughly equal bytes."""
    groups: List[List[int]] = []
    remaining = sum(sizes)
    i = 0
    for shard in range(num_shards):
        shards_left = num_shards - shard
        if shards_left == 1:
            groups.append(list(range(i, len(sizes))))
            break
        target = remaining / shards_left
        group, acc = [i], sizes[i]
        i += 1
        while acc < target and len(sizes) - i > shards_left - 1:
            group.append(i)
            acc += sizes[i]
            i += 1
        groups.append(group)
        remaining -= acc
    return groups


def _remove_stale_checkpoint(out_dir: str) -> None:
    """Delete checkpoint files a previous save left in ``out_dir`` (a stale index would shadow new data)."""
    for name in os.listdir(out_dir):
        if name in (SINGLE_FILE, INDEX_FILE) or _SHARD_PATTERN.fullmatch(name):
            os.remove(os.path.join(out_dir, name))


def save_checkpoint(
    tensors: Mapping[str, torch.Tensor],
    out_dir: str,
    num_shards: int = 1,
    metadata: Optional[Mapping[str, str]] = None,
    dtypes: Optional[Mapping[str, str]] = None,
) -> List[str]:
    """Write a checkpoint directory: ``model.safetensors``, or N shards plus the index when num_shards > 1.

    Tensors keep their mapping order and are split into contiguous shards of similar byte size;
    ``dtypes`` as for save_file.
    Returns the written file names (relative to ``out_dir``).
    """
    names = list(tensors)
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    if num_shards > max(1, len(names)):
        raise ValueError(f"cannot split {len(names)} tensors into {num_shards} non-empty shards")
    os.makedirs(out_dir, exist_ok=True)
    _remove_stale_checkpoint(out_dir)
    if num_shards == 1:
        save_file(tensors, os.path.join(out_dir, SINGLE_FILE), metadata, dtypes)
        return [SINGLE_FILE]
    sizes = [_tensor_nbytes(tensors[n]) for n in names]
    weight_map: Dict[str, str] = {}
    files = []
    for shard_index, group in enumerate(_partition(sizes, num_shards), start=1):
        file_name = shard_file_name(shard_index, num_shards)
        save_file({names[i]: tensors[names[i]] for i in group}, os.path.join(out_dir, file_name), metadata, dtypes)
        weight_map.update({names[i]: file_name for i in group})
        files.append(file_name)
    index = {"metadata": {"total_size": sum(sizes)}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(out_dir, INDEX_FILE), "w") as f:
        json.dump(index, f, indent=2)
        f.write("\n")
    return files + [INDEX_FILE]


def has_checkpoint(model_dir: str) -> bool:
    """Whether ``model_dir`` holds a single-file or an indexed sharded safetensors checkpoint."""
    return any(os.path.isfile(os.path.join(model_dir, n)) for n in (SINGLE_FILE, INDEX_FILE))


def checkpoint_dtypes(model_dir: str) -> Dict[str, str]:
    """Stored dtype name of every tensor of a checkpoint directory (single file or sharded)."""
    index_path = os.path.join(model_dir, INDEX_FILE)
    if not os.path.isfile(index_path):
        return read_dtypes(os.path.join(model_dir, SINGLE_FILE))
    with open(index_path) as f:
        files = sorted(set(json.load(f)["weight_map"].values()))
    dtypes: Dict[str, str] = {}
    for file_name in files:
        dtypes.update(read_dtypes(os.path.join(model_dir, file_name)))
    return dtypes


def load_checkpoint(model_dir: str) -> Dict[str, torch.Tensor]:
    """Load all tensors of a checkpoint directory (the index wins if both layouts are present).

    With an index, every shard it names is read, every tensor must sit in the shard the index says,
    and every tensor of those shards must be listed.
    """
    index_path = os.path.join(model_dir, INDEX_FILE)
    if not os.path.isfile(index_path):
        single = os.path.join(model_dir, SINGLE_FILE)
        if not os.path.isfile(single):
            raise FileNotFoundError(f"{model_dir}: no {SINGLE_FILE} or {INDEX_FILE}")
        return load_file(single)
    with open(index_path) as f:
        weight_map = json.load(f)["weight_map"]
    tensors: Dict[str, torch.Tensor] = {}
    for file_name in sorted(set(weight_map.values())):
        for name, tensor in load_file(os.path.join(model_dir, file_name)).items():
            if weight_map.get(name) != file_name:
                raise SafetensorsError(f"{file_name}: tensor {name} is not mapped to this shard by {INDEX_FILE}")
            tensors[name] = tensor
    missing = sorted(set(weight_map) - set(tensors))
    if missing:
        raise SafetensorsError(f"{INDEX_FILE} lists tensors absent from their shards: {missing[:5]}")
    return tensors
