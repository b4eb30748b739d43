#!/usr/bin/env python3
"""Regenerates vgcu's corpus of malformed inputs (test/bad-inputs/<case>/).

Usage: make_corpus.py [CORPUS_DIR]        (default: the directory of this script)

Every case directory holds the malformed file(s) plus case.json:
  {"category": ..., "description": ..., "tool": "vgcu-compile" | "vgcu-run" | "vgcu-opt",
   "args": [...], "expect": "substring of stderr", "mutate": [...] (artifact cases only)}
check_corpus.py runs them; README.md describes the placeholders and the mutation vocabulary.
A case file can also be a symbolic link (Symlink(target), e.g. to /dev/zero, whose content cannot
be committed); a FIFO, which git cannot hold either, is listed in case.json's "fifo" and made by
the checker.

The output is deterministic: running this again rewrites the same bytes. Case directories
(any subdirectory holding a case.json) that this script no longer makes are removed. Run it
with a Python that has torch (/usr/bin/python3 here): the tiny checkpoints come from
python/make_tiny_model.py (quantized ones from python/make_quantized_model.py) and the traced
model from python/trace_unsupported.py.
"""

import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_ROOT = os.path.dirname(os.path.dirname(HERE))
PYTHON_DIR = os.path.join(SRC_ROOT, "python")

CASES = {}  # name -> (case.json dict, {relative path: bytes or Symlink})

# A case file that is a symbolic link to `target` (written as a link, not as bytes).
Symlink = collections.namedtuple("Symlink", "target")


def case(name, category, description, tool, args, expect, files=None, mutate=None,
         expect_last=False, **extra):
    """Adds a case. case.json lists category, description, tool, args, expect, mutate and then
    the extra fields, in that order; expect_last moves "expect" after the extra fields (the order
    of a few cases that were first written by hand)."""
    if name in CASES:
        raise SystemExit(f"duplicate case {name}")
    spec = {"category": category, "description": description, "tool": tool, "args": args}
    if not expect_last:
        spec["expect"] = expect
    if mutate is not None:
        spec["mutate"] = mutate
    spec.update(extra)
    if expect_last:
        spec["expect"] = expect
    CASES[name] = (spec, dict(files or {}))


def text(value):
    return value.encode("utf-8") if isinstance(value, str) else value


def json_bytes(value):
    return (json.dumps(value, indent=2) + "\n").encode("utf-8")


# -------------------------------------------------------------------------------------------
# Building blocks: configs and safetensors files
# -------------------------------------------------------------------------------------------

# A tiny Llama: 1 layer, hidden 8, 2 heads of 4 (1 KV head), intermediate 8, vocabulary 8.
TINY_SIZES = ["--layers", "1", "--hidden", "8", "--heads", "2", "--kv-heads", "1",
              "--intermediate", "8", "--vocab", "8", "--max-pos", "16"]
TINY_LLAMA = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 8,
    "intermediate_size": 8,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "num_hidden_layers": 1,
    "vocab_size": 8,
    "max_position_embeddings": 16,
    "rms_norm_eps": 1e-05,
    "rope_theta": 10000.0,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
}


def config(base=None, drop=(), **changes):
    result = dict(TINY_LLAMA if base is None else base)
    for key in drop:
        result.pop(key)
    result.update(changes)
    return json_bytes(result)


def st_raw(header, data=b"", header_len=None):
    """A safetensors file from a header (dict, str or bytes, written as given) and data bytes."""
    if isinstance(header, dict):
        header = json.dumps(header, separators=(",", ":"))
    header = text(header)
    length = len(header) if header_len is None else header_len
    return struct.pack("<Q", length) + header + data


DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U8": 1, "BOOL": 1}


def st_read(blob):
    """[(name, dtype, shape, bytes)] of a well-formed safetensors file, in data order."""
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    entries = sorted(((info["data_offsets"][0], name, info) for name, info in header.items()
                      if name != "__metadata__"))
    return [(name, info["dtype"], list(info["shape"]),
             data[info["data_offsets"][0]:info["data_offsets"][1]]) for _, name, info in entries]


def st_write(tensors):
    """A well-formed safetensors file of [(name, dtype, shape, bytes)], back to back."""
    header, offset = {}, 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text_ = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text_ += b" " * (-len(text_) % 8)
    return struct.pack("<Q", len(text_)) + text_ + b"".join(t[3] for t in tensors)


def f32(count, value=0.25):
    return struct.pack("<%df" % count, *([value] * count))


def make_tiny(workdir, name, *args):
    """A tiny checkpoint directory from python/make_tiny_model.py: {file name: bytes}."""
    out = os.path.join(workdir, name)
    subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "make_tiny_model.py"), *args, out],
                   check=True, stdout=subprocess.DEVNULL)
    files = {}
    for file_name in sorted(os.listdir(out)):
        with open(os.path.join(out, file_name), "rb") as f:
            files[file_name] = f.read()
    return files


_TINY_LLAMA_FILES = {}


def tiny_llama(tmp):
    """The tiny Llama checkpoint of TINY_SIZES from python/make_tiny_model.py (made once):
    {file name: bytes}. Its config.json has every field Hugging Face writes, sorted."""
    if not _TINY_LLAMA_FILES:
        _TINY_LLAMA_FILES.update(make_tiny(tmp, "tiny-llama", "llama", *TINY_SIZES))
    return _TINY_LLAMA_FILES


# Deeply nested JSON or MLIR is written by the checker from a pattern ("generate" in case.json,
# "write_pattern" for artifacts) instead of being committed: 2 x 65536 brackets, far deeper than
# the 8 MiB default stack survives in a recursive-descent parser.
DEPTH = 65536


def nested(prefix, suffix, depth=DEPTH):
    """A "generate" pattern: prefix, depth '[', depth ']', suffix."""
    return [[prefix, 1], ["[", depth], ["]", depth], [suffix, 1]]


# What vgcu does today on the cases that find a bug (kept in case.json as "bug"; the checker
# prints it next to the failure). Remove the entry once vgcu is fixed. The bugs found when
# the corpus was written are all fixed: JSON nesting in configs, safetensors headers, indexes and
# manifests, IR nesting, the byte-size overflow, the layer limit, the manifest's vocabulary,
# --max-new-tokens overflow, the KV cache allocation, non-bytecode programs, a directory given
# as a TorchScript file, and invalid prompts that reached the ranks.
BUGS = {}


def compile_args():
    return ["{case}", "-o", "{out}", "--log-level=warn"]


# -------------------------------------------------------------------------------------------
# The cases
# -------------------------------------------------------------------------------------------

def safetensors_cases(tmp):
    cat = "safetensors"
    cfg = {"config.json": config()}

    def st_case(name, description, blob, expect):
        case(name, cat, description, "vgcu-compile", compile_args(), expect,
             {**cfg, "model.safetensors": blob})

    w = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
    st_case("st-empty-file", "model.safetensors is empty (0 bytes)", b"",
            "invalid safetensors file: file of 0 bytes is too small for the 8-byte header length")
    st_case("st-shorter-than-8-bytes", "model.safetensors has 3 bytes, fewer than the 8-byte "
            "header length", b"\x10\x00\x00",
            "invalid safetensors file: file of 3 bytes is too small for the 8-byte header length")
    st_case("st-header-length-past-end", "the header length (4096) runs past the end of the file",
            st_raw({"w": w}, f32(2), header_len=4096),
            "invalid safetensors file: header length 4096 runs past the end of the 70-byte file")
    st_case("st-header-length-over-limit", "the header length is 200 MiB, over the 100 MB limit "
            "(the file itself is tiny)", st_raw("{}", header_len=200 * 1024 * 1024),
            "invalid safetensors file: header length 209715200 exceeds the limit of 100000000 bytes")
    st_case("st-header-length-max-u64", "the header length is 2^64-1", st_raw("{}", header_len=2**64 - 1),
            "invalid safetensors file: header length 18446744073709551615 exceeds the limit")
    st_case("st-header-not-json", "the header starts with '{' but is not JSON",
            st_raw('{"w": {"dtype": F32}}'), "invalid safetensors file: header is not valid JSON")
    st_case("st-header-not-object", "the header is a JSON array, not an object",
            st_raw('[{"dtype":"F32","shape":[2],"data_offsets":[0,8]}]', f32(2)),
            "invalid safetensors file: header does not start with '{'")
    st_case("st-header-leading-space", "the header is an object preceded by a space (the format "
            "requires it to start with '{')", st_raw(' {"w":' + json.dumps(w) + "}", f32(2)),
            "invalid safetensors file: header does not start with '{'")
    st_case("st-header-not-utf8", "the header holds a byte that is not UTF-8 (0xff in a name)",
            st_raw(b'{"w\xff":' + text(json.dumps(w)) + b"}", f32(2)),
            "invalid safetensors file: header is not valid UTF-8")
    header_size = len('{"w":') + 2 * DEPTH + len("}")
    case("st-header-deeply-nested", cat, "the header nests %d JSON arrays (written by the checker "
         "from a pattern)" % DEPTH, "vgcu-compile", compile_args(),
         "invalid safetensors file: header", cfg,
         generate={"model.safetensors": nested(struct.pack("<Q", header_size).decode("latin-1")
                                               + '{"w":', "}")},
         timeout=30)
    st_case("st-entry-not-object", "a tensor's entry is a number, not an object",
            st_raw({"w": 5}), "invalid safetensors file: entry of tensor 'w' is not an object")
    st_case("st-metadata-not-object", "__metadata__ is a string",
            st_raw({"__metadata__": "pt", "w": w}, f32(2)),
            "invalid safetensors file: __metadata__ is not an object")
    st_case("st-missing-dtype", "a tensor has no dtype",
            st_raw({"w": {"shape": [2], "data_offsets": [0, 8]}}, f32(2)),
            "invalid safetensors file: tensor 'w' has no dtype string")
    st_case("st-unknown-dtype", "a tensor's dtype is F8_E5M2, which vgcu does not read (it "
            "reads F8_E4M3, the FP8 of quantized checkpoints)",
            st_raw({"w": {"dtype": "F8_E5M2", "shape": [2], "data_offsets": [0, 2]}}, b"\0\0"),
            "invalid safetensors file: tensor 'w' has unsupported dtype 'F8_E5M2'")
    st_case("st-missing-shape", "a tensor has no shape",
            st_raw({"w": {"dtype": "F32", "data_offsets": [0, 8]}}, f32(2)),
            "invalid safetensors file: tensor 'w' has no shape list")
    st_case("st-dtype-shape-byte-mismatch", "F32 [2, 3] needs 24 bytes but its offsets span 20",
            st_raw({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 20]}}, f32(5)),
            "invalid safetensors file: tensor 'w' is F32 of 6 elements (24 bytes) but its offsets "
            "span 20 bytes")
    st_case("st-negative-shape", "a shape entry is -1",
            st_raw({"w": {"dtype": "F32", "shape": [-1, 2], "data_offsets": [0, 8]}}, f32(2)),
            "invalid safetensors file: tensor 'w' has a shape entry that is not a non-negative "
            "integer")
    st_case("st-fractional-shape", "a shape entry is 2.5",
            st_raw({"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]}}, f32(2)),
            "invalid safetensors file: tensor 'w' has a shape entry that is not a non-negative "
            "integer")
    st_case("st-shape-overflow", "the shape [2^31, 2^31, 4] has more elements than fit in 62 bits",
            st_raw({"w": {"dtype": "F32", "shape": [2**31, 2**31, 4], "data_offsets": [0, 8]}},
                   f32(2)),
            "invalid safetensors file: tensor 'w' has a shape whose size overflows")
    # 2^62 F32 elements are 2^64 bytes: the element count passes the 2^62 limit, but the byte
    # count wraps to 0 in 64 bits, which then matches the empty offsets [0, 0].
    st_case("st-shape-byte-size-overflow", "the shape [2^62] of F32 is 2^64 bytes, which wraps "
            "to 0 in 64-bit arithmetic and matches data_offsets [0, 0]",
            st_raw({"w": {"dtype": "F32", "shape": [2**62], "data_offsets": [0, 0]}}),
            "invalid safetensors file: tensor 'w' has a shape whose size overflows")
    st_case("st-missing-data-offsets", "a tensor has no data_offsets",
            st_raw({"w": {"dtype": "F32", "shape": [2]}}, f32(2)),
            "invalid safetensors file: tensor 'w' needs data_offsets [begin, end]")
    st_case("st-data-offsets-negative", "data_offsets are [-8, 0]",
            st_raw({"w": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}}, f32(2)),
            "invalid safetensors file: tensor 'w' needs data_offsets [begin, end]")
    st_case("st-data-offsets-reversed", "data_offsets end before they begin ([8, 0])",
            st_raw({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, f32(2)),
            "invalid safetensors file: tensor 'w' ends before it begins")
    st_case("st-gap-before-tensor", "4 unused bytes lie between tensor 'a' and tensor 'b'",
            st_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}}, f32(5)),
            "invalid safetensors file: tensor 'b' starts at byte 12 where 8 was expected (a gap "
            "precedes it)")
    st_case("st-gap-at-start", "the first tensor starts at byte 4",
            st_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(3)),
            "invalid safetensors file: tensor 'a' starts at byte 4 where 0 was expected (a gap "
            "precedes it)")
    st_case("st-overlapping-tensors", "tensor 'b' starts inside tensor 'a'",
            st_raw({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                    "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, f32(3)),
            "invalid safetensors file: tensor 'b' starts at byte 4 where 8 was expected (it "
            "overlaps the previous tensor)")
    st_case("st-data-section-short", "the tensors need 16 bytes but the data section has 8",
            st_raw({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, f32(2)),
            "invalid safetensors file: tensors cover 16 bytes but the data section has 8 bytes")
    st_case("st-trailing-bytes", "4 bytes follow the last tensor",
            st_raw({"w": w}, f32(3)),
            "invalid safetensors file: tensors cover 8 bytes but the data section has 12 bytes")
    st_case("st-duplicate-tensor-name", "the header names tensor 'w' twice",
            st_raw('{"w":' + json.dumps(w) + ',"w":' + json.dumps(w) + "}", f32(2)),
            "invalid safetensors file: tensor 'w' appears twice in the header")
    case("st-dev-zero", cat, "model.safetensors is a link to /dev/zero", "vgcu-compile",
         compile_args(), "safetensors file '{case}/model.safetensors' is a character device; "
         "only regular files are read",
         {"config.json": tiny_llama(tmp)["config.json"],
          "model.safetensors": Symlink("/dev/zero")})


def sharded_cases(tmp):
    cat = "sharded-checkpoint"
    good = make_tiny(tmp, "sharded", "llama", *TINY_SIZES, "--shards", "2")
    index = json.loads(good["model.safetensors.index.json"])
    shard1, shard2 = "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"
    assert set(index["weight_map"].values()) == {shard1, shard2}
    in_shard2 = sorted(n for n, f in index["weight_map"].items() if f == shard2)

    def with_index(weight_map=None, raw=None, drop=()):
        files = {k: v for k, v in good.items() if k not in drop}
        if raw is not None:
            files["model.safetensors.index.json"] = text(raw)
        else:
            files["model.safetensors.index.json"] = json_bytes(
                {"metadata": index["metadata"], "weight_map": weight_map})
        return files

    def sh_case(name, description, files, expect):
        case(name, cat, description, "vgcu-compile", compile_args(), expect, files)

    sh_case("shard-index-invalid-json", "model.safetensors.index.json is cut off mid-object",
            with_index(raw='{"weight_map": {"model.norm.weight": "' + shard2 + '",\n'),
            "model.safetensors.index.json: invalid JSON: [")
    sh_case("shard-index-no-weight-map", "the index has metadata but no weight_map",
            with_index(raw=json.dumps({"metadata": index["metadata"]})),
            "model.safetensors.index.json: expected an object with a 'weight_map' object")
    sh_case("shard-index-top-level-array", "the index is a JSON array",
            with_index(raw="[]\n"),
            "model.safetensors.index.json: expected an object with a 'weight_map' object")
    sh_case("shard-index-empty-weight-map", "the index's weight_map is empty",
            with_index({}), "model.safetensors.index.json: weight_map is empty")
    sh_case("shard-index-missing-shard-file", "the index names " + shard2 + ", which is not there",
            with_index(index["weight_map"], drop=(shard2,)),
            "cannot read safetensors file '{case}/" + shard2 + "': No such file or directory")
    extra = dict(index["weight_map"])
    extra["model.layers.0.mlp.extra_proj.weight"] = shard1
    sh_case("shard-tensor-listed-not-in-shard", "the index lists a tensor its shard does not hold",
            with_index(extra),
            "tensor 'model.layers.0.mlp.extra_proj.weight' is listed in "
            "model.safetensors.index.json but '" + shard1 + "' does not contain it")
    unlisted = dict(index["weight_map"])
    del unlisted[in_shard2[0]]
    sh_case("shard-tensor-not-in-index", "a shard holds a tensor the index does not list",
            with_index(unlisted),
            shard2 + ": tensor '" + in_shard2[0] + "' is not listed for this file in "
            "model.safetensors.index.json")
    wrong = dict(index["weight_map"])
    wrong[in_shard2[0]] = shard1
    sh_case("shard-tensor-in-other-shard", "the index puts a tensor in the other shard",
            with_index(wrong),
            shard2 + ": tensor '" + in_shard2[0] + "' is not listed for this file in "
            "model.safetensors.index.json")
    for name, path, description in [
            ("shard-weight-map-subdirectory", "sub/" + shard2, "a path with '/'"),
            ("shard-weight-map-dotdot", "../" + shard2, "a path escaping the directory ('..')"),
            ("shard-weight-map-absolute", "/etc/passwd", "an absolute path"),
            ("shard-weight-map-parent", "..", "the parent directory '..'")]:
        escaped = dict(index["weight_map"])
        escaped[in_shard2[0]] = path
        sh_case(name, "weight_map names " + description + " for a tensor", with_index(escaped),
                "model.safetensors.index.json: weight_map entry '" + in_shard2[0] + "' must name "
                "a file in the checkpoint directory")
    dot = dict(index["weight_map"])
    dot[in_shard2[0]] = "."
    sh_case("shard-weight-map-dot", "weight_map names '.', the checkpoint directory itself",
            with_index(dot), "'{case}/.'")
    deep = {k: v for k, v in good.items() if k != "model.safetensors.index.json"}
    case("shard-index-deeply-nested", cat, "the index nests %d JSON arrays (written by the checker "
         "from a pattern)" % DEPTH, "vgcu-compile", compile_args(),
         "model.safetensors.index.json: invalid JSON", deep,
         generate={"model.safetensors.index.json": nested('{"weight_map": {}, "x": ', "}\n")},
         timeout=30)
    not_string = dict(index["weight_map"])
    not_string[in_shard2[0]] = 2
    sh_case("shard-weight-map-not-string", "a weight_map value is a number",
            with_index(not_string),
            "model.safetensors.index.json: weight_map entry '" + in_shard2[0] + "' must name "
            "a file in the checkpoint directory")
    bad_shard = dict(good)
    bad_shard[shard2] = b"\x05\x00\x00\x00\x00\x00\x00\x00{\"a\":"
    sh_case("shard-invalid-shard-file", "one shard is not a safetensors file (header cut off)",
            bad_shard, shard2 + ": invalid safetensors file: header is not valid JSON: [1:5, byte=5]: "
            "Unexpected EOF")


def config_cases(tmp):
    cat = "config"

    def cfg_case(name, description, config_bytes, expect, args=None):
        case(name, cat, description, "vgcu-compile", args or compile_args(), expect,
             {"config.json": config_bytes})

    valid = config().decode()
    cut = valid.replace('"hidden_size": 8,', '"hidden_size": 8,,')
    cfg_case("cfg-invalid-json", "config.json has a doubled comma after hidden_size (line 6, "
             "column 20)",
             text(cut), "config.json: invalid JSON: [6:20, byte=96]: Expected object key")
    cfg_case("cfg-truncated-json", "config.json stops in the middle of the object",
             text(valid[:valid.index('"num_hidden_layers"')]), "config.json: invalid JSON: [")
    cfg_case("cfg-empty-file", "config.json is empty", b"", "config.json: invalid JSON: [")
    cfg_case("cfg-not-utf8", "config.json holds a byte that is not UTF-8 (0xff in model_type)",
             text(valid).replace(b'"llama"', b'"ll\xffama"'), "config.json: invalid JSON: [")
    case("cfg-deeply-nested-json", cat, "config.json nests %d JSON arrays (written by the "
         "checker from a pattern)" % DEPTH, "vgcu-compile", compile_args(),
         "config.json: invalid JSON", {},
         generate={"config.json": nested('{"architectures": ["LlamaForCausalLM"], "x": ', "}\n")},
         timeout=30)
    cfg_case("cfg-top-level-array", "config.json is a JSON array of the config",
             json_bytes([TINY_LLAMA]), "config.json: expected a JSON object at the top level")
    cfg_case("cfg-missing-architectures", "no 'architectures' field",
             config(drop=["architectures"]),
             "config.json: required field 'architectures' is missing")
    cfg_case("cfg-empty-architectures", "'architectures' is an empty list",
             config(architectures=[]),
             "config.json: field 'architectures' must be a non-empty list of architecture names, "
             "got an array")
    cfg_case("cfg-architectures-string", "'architectures' is a string, not a list",
             config(architectures="LlamaForCausalLM"),
             "config.json: field 'architectures' must be a non-empty list of architecture names, "
             "got string \"LlamaForCausalLM\"")
    cfg_case("cfg-unknown-architecture", "the architecture is GPTNeoXForCausalLM, not registered",
             config(architectures=["GPTNeoXForCausalLM"]),
             "config.json: unknown architecture 'GPTNeoXForCausalLM'")
    cfg_case("cfg-missing-hidden-size", "no 'hidden_size' field", config(drop=["hidden_size"]),
             "config.json: required field 'hidden_size' is missing")
    cfg_case("cfg-hidden-size-string", "'hidden_size' is the string \"8\"",
             config(hidden_size="8"),
             "config.json: field 'hidden_size' must be a positive integer, got string \"8\"")
    cfg_case("cfg-hidden-size-null", "'hidden_size' is null", config(hidden_size=None),
             "config.json: field 'hidden_size' must be a positive integer, got null")
    cfg_case("cfg-zero-layers", "'num_hidden_layers' is 0", config(num_hidden_layers=0),
             "config.json: field 'num_hidden_layers' must be a positive integer, got number 0")
    cfg_case("cfg-negative-heads", "'num_attention_heads' is -2", config(num_attention_heads=-2),
             "config.json: field 'num_attention_heads' must be a positive integer, got number -2")
    cfg_case("cfg-huge-vocab", "'vocab_size' is 10^15", config(vocab_size=10**15),
             "config.json: field 'vocab_size' is 1000000000000000, larger than the limit of "
             "1073741824")
    cfg_case("cfg-vocab-beyond-int64", "'vocab_size' is 10^20, more than an int64 holds",
             config(vocab_size=10**20),
             "config.json: field 'vocab_size' must be a positive integer, got number 1e+20")
    cfg_case("cfg-heads-not-dividing-hidden", "3 heads do not divide hidden_size 8",
             config(num_attention_heads=3, num_key_value_heads=1),
             "config.json: field 'num_attention_heads' (3) does not divide hidden_size (8)")
    cfg_case("cfg-heads-exceed-hidden", "16 heads for hidden_size 8 (head_dim would be 0)",
             config(num_attention_heads=16, num_key_value_heads=1),
             "config.json: field 'num_attention_heads' (16) exceeds hidden_size (8)")
    cfg_case("cfg-kv-heads-not-dividing-heads", "3 KV heads do not divide 4 attention heads",
             config(num_attention_heads=4, num_key_value_heads=3),
             "config.json: field 'num_key_value_heads' (3) does not divide num_attention_heads (4)")
    cfg_case("cfg-rope-unknown-type", "rope_scaling names a rope type nobody defines",
             config(rope_scaling={"type": "su2", "factor": 2.0}),
             "config.json: field 'rope_scaling.type' names rope type 'su2', which vgcu does not "
             "support (default, linear, dynamic, yarn, longrope, llama3)")
    cfg_case("cfg-rope-llama3-missing-field", "llama3 rope scaling without low_freq_factor",
             config(rope_scaling={"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 8192}),
             "config.json: field 'rope_scaling.low_freq_factor' is required by rope type "
             "'llama3'")
    cfg_case("cfg-rope-longrope-factor-count", "longrope with 3 short factors for a rotary "
             "dimension of 4", config(rope_scaling={"type": "longrope", "factor": 2.0,
                                                    "short_factor": [1.0, 1.0, 1.0],
                                                    "long_factor": [2.0, 2.0]}),
             "config.json: field 'rope_scaling.short_factor' has 3 entries; the rotary "
             "dimension 4 needs 2")
    cfg_case("cfg-rope-factor-negative", "linear rope scaling with factor -2",
             config(rope_scaling={"rope_type": "linear", "factor": -2.0}),
             "config.json: field 'rope_scaling.factor' must be a positive number, got number -2")
    cfg_case("cfg-baichuan-13b-alibi", "a Baichuan config with hidden_size 5120 (the 13B models, "
             "whose attention uses ALiBi)",
             config(architectures=["BaichuanForCausalLM"], hidden_size=5120,
                    num_attention_heads=40, drop=["num_key_value_heads"]),
             "config.json: field 'hidden_size' is 5120: this is a Baichuan 13B model, whose "
             "attention uses ALiBi position biases, which vgcu does not support")
    cfg_case("cfg-chatglm-layernorm", "a ChatGLM config with rmsnorm false",
             json_bytes({"architectures": ["ChatGLMModel"], "num_layers": 1, "hidden_size": 8,
                         "ffn_hidden_size": 8, "kv_channels": 4, "num_attention_heads": 2,
                         "padded_vocab_size": 8, "rmsnorm": False}),
             "config.json: field 'rmsnorm' is false; LayerNorm instead of RMSNorm is not "
             "supported")
    cfg_case("cfg-chatglm-groups-not-dividing", "ChatGLM with 3 multi-query groups for 2 heads",
             json_bytes({"architectures": ["ChatGLMModel"], "num_layers": 1, "hidden_size": 8,
                         "ffn_hidden_size": 8, "kv_channels": 4, "num_attention_heads": 2,
                         "padded_vocab_size": 8, "multi_query_attention": True,
                         "multi_query_group_num": 3}),
             "config.json: field 'multi_query_group_num' (3) does not divide num_attention_heads "
             "(2)")
    cfg_case("cfg-gpt2-cross-attention", "a GPT-2 config with add_cross_attention",
             json_bytes({"architectures": ["GPT2LMHeadModel"], "n_embd": 8, "n_layer": 1,
                         "n_head": 2, "vocab_size": 8, "add_cross_attention": True}),
             "config.json: field 'add_cross_attention' is true; GPT-2 as an encoder-decoder is "
             "not supported")
    cfg_case("cfg-internlm2-rope-yarn", "InternLM2 with yarn rope scaling (it has linear and "
             "dynamic)",
             config(architectures=["InternLM2ForCausalLM"],
                    rope_scaling={"type": "yarn", "factor": 2.0}),
             "config.json: field 'rope_scaling.type' names rope type 'yarn', which "
             "InternLM2ForCausalLM does not have (it has linear, dynamic)")
    cfg_case("cfg-moe-top-k-exceeds-experts", "Mixtral choosing 4 of 2 experts per token",
             config(architectures=["MixtralForCausalLM"], num_local_experts=2,
                    num_experts_per_tok=4),
             "config.json: field 'num_experts_per_tok' (4) exceeds num_local_experts (2)")
    cfg_case("cfg-moe-dense-layer-out-of-range", "Qwen3-MoE naming layer 5 of 1 in mlp_only_layers",
             config(architectures=["Qwen3MoeForCausalLM"], num_experts=4, num_experts_per_tok=2,
                    moe_intermediate_size=8, mlp_only_layers=[5], head_dim=4),
             "config.json: field 'mlp_only_layers' must hold layer indices below "
             "num_hidden_layers (1)")
    deepseek = dict(architectures=["DeepseekV2ForCausalLM"], n_routed_experts=4,
                    num_experts_per_tok=2, moe_intermediate_size=8, kv_lora_rank=8,
                    qk_nope_head_dim=4, qk_rope_head_dim=4, v_head_dim=4)
    cfg_case("cfg-deepseek-topk-method", "DeepSeek-V2 with topk_method 'random'",
             config(**deepseek, topk_method="random"),
             "config.json: field 'topk_method' is 'random'; MoEGate has greedy, "
             "group_limited_greedy and noaux_tc")
    cfg_case("cfg-deepseek-groups-indivisible", "DeepSeek-V2 with 4 experts in 3 groups",
             config(**deepseek, topk_method="group_limited_greedy", n_group=3, topk_group=1),
             "config.json: field 'n_group' (3) does not divide n_routed_experts (4)")
    cfg_case("cfg-deepseek-odd-rope", "DeepSeek-V2 with qk_rope_head_dim 3",
             config(**dict(deepseek, qk_rope_head_dim=3)),
             "config.json: field 'qk_rope_head_dim' (3) must be even: rotary rotates pairs")
    cfg_case("cfg-deepseek-rope-linear", "DeepSeek-V2 with linear rope scaling",
             config(**deepseek, rope_scaling={"type": "linear", "factor": 2.0}),
             "config.json: field 'rope_scaling' has type 'linear'; DeepSeek's rotary is plain "
             "or yarn")
    cfg_case("cfg-unsupported-activation", "hidden_act is 'swiglu'", config(hidden_act="swiglu"),
             "config.json: field 'hidden_act' names activation 'swiglu', which vgcu does not "
             "support")
    cfg_case("cfg-unsupported-torch-dtype", "torch_dtype is 'int8'", config(torch_dtype="int8"),
             "config.json: field 'torch_dtype' is 'int8'; pass --dtype f32, f16 or bf16")
    cfg_case("cfg-negative-rms-norm-eps", "rms_norm_eps is -1e-5", config(rms_norm_eps=-1e-05),
             "config.json: field 'rms_norm_eps' must be a positive number, got number -1")
    cfg_case("cfg-partial-rotary-factor-above-1", "partial_rotary_factor is 1.5",
             config(partial_rotary_factor=1.5),
             "config.json: field 'partial_rotary_factor' must be within (0, 1], got 1.5")
    cfg_case("cfg-partial-rotary-factor-odd", "partial_rotary_factor 0.25 of head_dim 4 gives an "
             "odd rotary dimension (1)", config(partial_rotary_factor=0.25),
             "config.json: field 'partial_rotary_factor' gives an odd or oversized rotary dimension "
             "1 for head_dim 4")
    cfg_case("cfg-tie-word-embeddings-string", "tie_word_embeddings is the string \"false\"",
             config(tie_word_embeddings="false"),
             "config.json: field 'tie_word_embeddings' must be true or false, got string \"false\"")
    opt = {
        "architectures": ["OPTForCausalLM"], "model_type": "opt", "hidden_size": 8, "ffn_dim": 16,
        "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 8,
        "max_position_embeddings": 16, "word_embed_proj_dim": 8, "do_layer_norm_before": True,
        "activation_function": "relu", "torch_dtype": "float32",
    }
    cfg_case("cfg-opt-word-embed-proj-dim", "OPT with word_embed_proj_dim 4 != hidden_size 8 "
             "(project_in/project_out)", config(opt, word_embed_proj_dim=4),
             "config.json: field 'word_embed_proj_dim' (4) differs from hidden_size (8); OPT's "
             "project_in/project_out layers are not supported")
    cfg_case("cfg-opt-activation", "OPT with activation_function 'silu'",
             config(opt, activation_function="silu"),
             "config.json: field 'activation_function' names 'silu'; OPT supports relu and gelu")
    cfg_case("cfg-opt-missing-ffn-dim", "OPT without ffn_dim (intermediate_size given instead)",
             config(opt, drop=["ffn_dim"], intermediate_size=16),
             "config.json: required field 'ffn_dim' is missing")
    qwen2 = dict(TINY_LLAMA, architectures=["Qwen2ForCausalLM"], model_type="qwen2",
                 use_sliding_window=True, sliding_window=8)
    cfg_case("cfg-negative-max-window-layers", "Qwen2 with max_window_layers -1",
             config(qwen2, max_window_layers=-1),
             "config.json: field 'max_window_layers' must be a non-negative integer, got number -1")
    cfg_case("cfg-zero-sliding-window", "Qwen2 with sliding_window 0",
             config(qwen2, sliding_window=0),
             "config.json: field 'sliding_window' must be a positive integer, got number 0")
    case("cfg-missing-config", cat, "the model directory has weights but no config.json",
         "vgcu-compile", compile_args(), "has no config.json",
         {"model.safetensors": st_write([("w", "F32", [2], f32(2))])})
    case("cfg-missing-directory", cat, "the model directory does not exist", "vgcu-compile",
         ["{case}/no-such-model", "-o", "{out}"],
         "model directory '{case}/no-such-model' does not exist", {})
    case("cfg-config-is-directory", cat, "config.json is a directory", "vgcu-compile",
         compile_args(), "config.json", {"config.json/README": b"a directory, not a file\n"})
    cfg_case("cfg-dev-zero", "config.json is a link to /dev/zero (reading it would never end)",
             Symlink("/dev/zero"),
             "config '{case}/config.json' is a character device; only regular files are read")
    case("cfg-fifo", cat, "config.json is a FIFO (reading it would wait forever)", "vgcu-compile",
         compile_args(), "config '{case}/config.json' is a FIFO; only regular files are read", {},
         fifo=["config.json"], expect_last=True)
    huge = json.loads(tiny_llama(tmp)["config.json"])
    huge.update(hidden_size=2**30, intermediate_size=2**30, vocab_size=2**30,
                num_attention_heads=2**20, num_key_value_heads=2**20, head_dim=2**10,
                num_hidden_layers=4)
    cfg_case("cfg-parameter-count-overflow", "every size at the 2^30 limit: the parameter count "
             "overflows 64 bits", json_bytes(huge),
             "the model's parameter count does not fit in 64 bits",
             args=["{case}", "--summary-json"])


def tp_cases(tmp):
    cat = "tensor-parallel"

    def tp_case(name, description, sizes, tp, expect, emit=False):
        files = make_tiny(tmp, name, "llama", "--layers", "1", "--vocab", "8", "--max-pos", "16",
                          *sizes)
        args = ["{case}", "-o", "{out}", "--tp", str(tp), "--log-level=warn"]
        case(name, cat, description, "vgcu-compile", args, expect, files)

    tp_case("tp-heads-indivisible", "6 attention heads at --tp 4 (valid weights)",
            ["--hidden", "12", "--heads", "6", "--kv-heads", "2", "--intermediate", "8"], 4,
            "cannot shard for tensor parallelism: num_heads = 6 of "
            "'model.layers.0.self_attn.attn' is not divisible by tp = 4")
    tp_case("tp-intermediate-indivisible", "intermediate_size 6 at --tp 4 (valid weights)",
            ["--hidden", "16", "--heads", "4", "--kv-heads", "4", "--intermediate", "6"], 4,
            "cannot shard for tensor parallelism: intermediate size 6 of "
            "'model.layers.0.mlp.gate_up_proj' is not divisible by tp = 4")
    tp_case("tp-kv-heads-not-multiple", "3 KV heads at --tp 2: more KV heads than ranks, but not a "
            "multiple of tp", ["--hidden", "12", "--heads", "6", "--kv-heads", "3",
                               "--intermediate", "8"], 2,
            "cannot shard for tensor parallelism: num_kv_heads = 3 of "
            "'model.layers.0.self_attn.attn' is not divisible by tp = 2")
    tp_case("tp-kv-heads-not-divisor", "3 KV heads (of 12) at --tp 4: fewer KV heads than ranks, "
            "and not a divisor of tp", ["--hidden", "24", "--heads", "12", "--kv-heads", "3",
                                        "--intermediate", "8"], 4,
            "cannot shard for tensor parallelism: num_kv_heads = 3 of "
            "'model.layers.0.self_attn.attn' is not a divisor of tp = 4")
    case("tp-zero", cat, "--tp 0", "vgcu-compile",
         ["{case}", "-o", "{out}", "--tp", "0"], "--tp must be at least 1, got 0",
         {"config.json": config()})
    case("tp-negative", cat, "--tp -1", "vgcu-compile",
         ["{case}", "-o", "{out}", "--tp", "-1"], "--tp must be at least 1, got -1",
         {"config.json": config()})
    case("tp-not-a-number", cat, "--tp two", "vgcu-compile",
         ["{case}", "-o", "{out}", "--tp", "two"], "for the --tp option: 'two' value invalid for long argument",
         {"config.json": config()})
    # Expert parallelism: checked on the config alone (--summary-json needs no weights).
    mixtral = config(architectures=["MixtralForCausalLM"], num_local_experts=4,
                     num_experts_per_tok=2)
    case("ep-zero", cat, "--ep 0", "vgcu-compile", ["{case}", "--summary-json", "--ep", "0"],
         "--ep must be at least 1, got 0", {"config.json": mixtral})
    case("ep-too-many-ranks", cat, "--tp 64 --ep 32: 2048 ranks", "vgcu-compile",
         ["{case}", "--summary-json", "--tp", "64", "--ep", "32"],
         "--tp 64 x --ep 32 is more than 1024 ranks", {"config.json": mixtral})
    case("ep-experts-indivisible", cat, "4 experts at --ep 3", "vgcu-compile",
         ["{case}", "--summary-json", "--ep", "3"],
         "cannot shard for expert parallelism: num_experts = 4 of "
         "'model.layers.0.block_sparse_moe.experts' is not divisible by ep = 3",
         {"config.json": mixtral})
    case("ep-dense-model", cat, "--ep 2 for a Llama (no experts to split)", "vgcu-compile",
         ["{case}", "--summary-json", "--ep", "2"],
         "cannot shard for expert parallelism (ep = 2): the model has no mixture-of-experts "
         "layers", {"config.json": config()})


def weights_cases(tmp):
    cat = "weights"
    good = tiny_llama(tmp)
    tensors = st_read(good["model.safetensors"])
    names = [t[0] for t in tensors]
    assert "model.layers.0.mlp.down_proj.weight" in names, names

    def w_case(name, description, new_tensors, expect, config_bytes=None):
        files = {"config.json": config_bytes or good["config.json"],
                 "model.safetensors": st_write(new_tensors)}
        case(name, cat, description, "vgcu-compile", compile_args(), expect, files)

    for name, description, generation, expect in [
        ("gen-config-eos-string", "generation_config.json's eos_token_id is a string",
         b'{"eos_token_id": "</s>"}\n',
         "{case}/generation_config.json: eos_token_id must be a token id in [0, 8) or a list "
         "of them"),
        ("gen-config-eos-outside-vocab", "generation_config.json lists eos token 8 of an "
         "8-token vocabulary", b'{"eos_token_id": [2, 8]}\n',
         "{case}/generation_config.json: eos_token_id must be a token id in [0, 8) or a list "
         "of them"),
        ("gen-config-not-json", "generation_config.json is not JSON", b'{"eos_token_id": \n',
         "{case}/generation_config.json: invalid JSON"),
    ]:
        case(name, cat, description, "vgcu-compile", compile_args(), expect,
             {"config.json": good["config.json"], "model.safetensors": good["model.safetensors"],
              "generation_config.json": generation})

    def without(name):
        return [t for t in tensors if t[0] != name]

    def replaced(name, **fields):
        out = []
        for t in tensors:
            if t[0] == name:
                t = (fields.get("name", t[0]), fields.get("dtype", t[1]), fields.get("shape", t[2]),
                     fields.get("data", t[3]))
            out.append(t)
        return out

    w_case("w-missing-tensor", "model.layers.0.mlp.down_proj.weight is not in the checkpoint",
           without("model.layers.0.mlp.down_proj.weight"),
           "checkpoint has no tensor 'model.layers.0.mlp.down_proj.weight'")
    w_case("w-missing-packed-part", "k_proj is missing (a part of the packed qkv_proj)",
           without("model.layers.0.self_attn.k_proj.weight"),
           "checkpoint has no tensor 'model.layers.0.self_attn.k_proj.weight' (the k_proj part of "
           "parameter 'model.layers.0.self_attn.qkv_proj.weight')")
    w_case("w-extra-tensor", "an extra tensor the model does not use",
           tensors + [("model.layers.0.mlp.extra_proj.weight", "F32", [2], f32(2))],
           "checkpoint tensor 'model.layers.0.mlp.extra_proj.weight' matches no parameter of the "
           "model")
    w_case("w-extra-layer", "a second layer's tensor in a 1-layer model",
           tensors + [("model.layers.1.input_layernorm.weight", "F32", [8], f32(8))],
           "model.layers.1.input_layernorm.weight")
    w_case("w-wrong-shape", "model.embed_tokens.weight is [9, 8] instead of [8, 8]",
           replaced("model.embed_tokens.weight", shape=[9, 8], data=f32(72)),
           "checkpoint tensor 'model.embed_tokens.weight' has shape [9, 8] but parameter "
           "'model.embed_tokens.weight' expects [8, 8]")
    w_case("w-transposed-packed-part", "k_proj is stored transposed: [8, 4] instead of [4, 8]",
           replaced("model.layers.0.self_attn.k_proj.weight", shape=[8, 4]),
           "checkpoint tensor 'model.layers.0.self_attn.k_proj.weight' has shape [8, 4] but "
           "parameter 'model.layers.0.self_attn.qkv_proj.weight' (k_proj) expects [4, 8]")
    internlm2 = [
        ("model.tok_embeddings.weight", "F32", [8, 8], f32(64)),
        # 2 query heads + key + value of 4 rows for the one KV head would be 16 rows.
        ("model.layers.0.attention.wqkv.weight", "F32", [12, 8], f32(96)),
        ("model.layers.0.attention.wo.weight", "F32", [8, 8], f32(64)),
        ("model.layers.0.feed_forward.w1.weight", "F32", [8, 8], f32(64)),
        ("model.layers.0.feed_forward.w3.weight", "F32", [8, 8], f32(64)),
        ("model.layers.0.feed_forward.w2.weight", "F32", [8, 8], f32(64)),
        ("model.layers.0.attention_norm.weight", "F32", [8], f32(8)),
        ("model.layers.0.ffn_norm.weight", "F32", [8], f32(8)),
        ("model.norm.weight", "F32", [8], f32(8)),
        ("output.weight", "F32", [8, 8], f32(64)),
    ]
    w_case("w-internlm2-wqkv-short", "an InternLM2 wqkv with 12 rows where 1 KV head with 2 query "
           "heads of 4 needs 16", internlm2,
           "checkpoint tensor 'model.layers.0.attention.wqkv.weight' has shape [12, 8], but "
           "parameter 'model.layers.0.attention.wqkv.weight' reads it the query rows of each KV "
           "head's block (2 query heads, key, value), which takes [16, 8]",
           config_bytes=config(architectures=["InternLM2ForCausalLM"], bias=False))
    w_case("w-integer-dtype", "model.norm.weight is I32",
           replaced("model.norm.weight", dtype="I32"),
           "checkpoint tensor 'model.norm.weight' has dtype I32; parameter 'model.norm.weight' "
           "needs F32, F16 or BF16")
    w_case("w-bool-dtype", "model.norm.weight is BOOL",
           replaced("model.norm.weight", dtype="BOOL", data=b"\x01" * 8),
           "checkpoint tensor 'model.norm.weight' has dtype BOOL; parameter 'model.norm.weight' "
           "needs F32, F16 or BF16")
    w_case("w-f64-dtype", "model.norm.weight is F64",
           replaced("model.norm.weight", dtype="F64", data=b"\0" * 64),
           "checkpoint tensor 'model.norm.weight' has dtype F64; parameter 'model.norm.weight' "
           "needs F32, F16 or BF16")
    w_case("w-empty-checkpoint", "model.safetensors holds no tensors at all", [],
           "checkpoint has no tensor")
    layers = json.loads(good["config.json"])
    layers["num_hidden_layers"] = 2**30
    case("cfg-layers-at-limit", "config", "num_hidden_layers is 2^30, the largest size the config "
         "reader accepts, but more layers than vgcu builds, with the 1-layer checkpoint (run under "
         "a 4 GiB address-space limit)",
         "vgcu-compile", compile_args(),
         "field 'num_hidden_layers' is 1073741824, more than the limit of 4096 layers",
         {"config.json": json_bytes(layers), "model.safetensors": good["model.safetensors"]},
         memory_limit_mb=4096)
    case("w-no-weights", cat, "config.json only, with -o", "vgcu-compile", compile_args(),
         "has no weights (model.safetensors or model.safetensors.index.json); nothing to put in "
         "an artifact", {"config.json": good["config.json"]})


def torchscript_cases(tmp):
    cat = "torchscript"
    out = os.path.join(tmp, "traced")
    os.makedirs(out)
    subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "trace_unsupported.py"),
                    os.path.join(out, "cumsum.pt")], check=True)
    with open(os.path.join(out, "cumsum.pt"), "rb") as f:
        cumsum = f.read()
    args = lambda path: ["--from-torchscript", path, "--emit=graph"]  # noqa: E731
    case("ts-unsupported-op", cat, "a traced model using aten::cumsum (python/trace_unsupported.py)",
         "vgcu-compile", args("{case}/cumsum.pt"),
         "cumsum.pt: unsupported TorchScript op 'aten::cumsum' (at ", {"cumsum.pt": cumsum})
    subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "trace_unsupported.py"),
                    os.path.join(out, "headless.pt"), "--headless"], check=True)
    with open(os.path.join(out, "headless.pt"), "rb") as f:
        headless = f.read()
    case("ts-no-lm-head", cat, "a traced model that returns hidden states (no LM head), "
         "compiled to kernels", "vgcu-compile",
         ["--from-torchscript", "{case}/headless.pt", "--emit=kernels", "--tp", "2"],
         "@forward does not end in an LM head (a vgcu.linear of the hidden states by a "
         "parameter) that could become @compute_logits", {"headless.pt": headless})
    for kind, description, expect in [
        ("three-inputs", "forward(input_ids, position_ids, token_type_ids)",
         "forward takes 3 inputs; vgcu imports forward(input_ids), forward(input_ids, "
         "position_ids) and forward(input_ids, attention_mask)"),
        ("mask-as-data", "forward(input_ids, attention_mask) multiplying the hidden states by the "
         "mask", "the attention mask (or a ones_like of the input ids) is used for more than "
         "deriving position ids"),
        ("arange-step", "forward(input_ids) with positions arange(0, 2 T, 2)",
         "aten::arange over the token count must be arange(T) or arange(p, p + T) with step 1"),
        ("token-types", "forward(input_ids, token_type_ids): a second input vgcu does not know",
         "forward's second input is 'token_type_ids'; vgcu imports forward(input_ids, "
         "position_ids) (or positions) and forward(input_ids, attention_mask)"),
        ("baked-positions", "forward(input_ids) whose positions were traced as constants",
         "forward(input_ids) does not derive positions from the number of tokens"),
        ("flatten-tokens", "a reshape merging the token dimension with the hidden one",
         "merges the token dimension with others or splits it"),
    ]:
        name = kind + ".pt"
        subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "trace_unsupported.py"),
                        os.path.join(out, name), "--kind", kind], check=True)
        with open(os.path.join(out, name), "rb") as f:
            traced = f.read()
        case("ts-" + kind, cat, description, "vgcu-compile", args("{case}/" + name), expect,
             {name: traced})
    case("ts-garbage-file", cat, "a .pt file holding plain text", "vgcu-compile",
         args("{case}/garbage.pt"), "cannot load TorchScript file '{case}/garbage.pt'",
         {"garbage.pt": b"not a zip file\n"})
    case("ts-empty-file", cat, "an empty .pt file", "vgcu-compile", args("{case}/empty.pt"),
         "cannot load TorchScript file '{case}/empty.pt'", {"empty.pt": b""})
    # A zip archive that is not a TorchScript archive (no data.pkl / code/), fixed timestamps.
    import io
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        info = zipfile.ZipInfo("model/notes.txt", date_time=(1980, 1, 1, 0, 0, 0))
        archive.writestr(info, "a zip archive, but not a TorchScript module\n")
    case("ts-zip-not-torchscript", cat, "a valid zip archive that is not TorchScript",
         "vgcu-compile", args("{case}/notes.pt"), "cannot load TorchScript file '{case}/notes.pt'",
         {"notes.pt": buffer.getvalue()})
    case("ts-truncated", cat, "the traced model cut to half its size", "vgcu-compile",
         args("{case}/half.pt"), "cannot load TorchScript file '{case}/half.pt'",
         {"half.pt": cumsum[:len(cumsum) // 2]})
    case("ts-nonexistent-file", cat, "the .pt file does not exist", "vgcu-compile",
         args("{case}/missing.pt"), "TorchScript file '{case}/missing.pt' does not exist", {})
    case("ts-directory", cat, "the .pt path is a directory", "vgcu-compile",
         args("{case}/model.pt"), "'{case}/model.pt' is a directory",
         {"model.pt/README": b"a directory, not a TorchScript file\n"})
    case("ts-dev-zero", cat, "the .pt file is /dev/zero", "vgcu-compile", args("/dev/zero"),
         "TorchScript file '/dev/zero' is a character device; only regular files are read", {})
    case("ts-with-model-dir", cat, "--from-torchscript with a model directory as well",
         "vgcu-compile", ["--from-torchscript", "{case}/cumsum.pt", "{case}", "-o", "{out}"],
         "--from-torchscript takes no model directory (the trace is the model)",
         {"cumsum.pt": cumsum})
    case("ts-with-dtype", cat, "--from-torchscript with --dtype (a trace computes in its "
         "parameters' dtype)", "vgcu-compile",
         ["--from-torchscript", "{case}/cumsum.pt", "--dtype", "bf16", "-o", "{out}"],
         "--dtype does not apply to --from-torchscript", {"cumsum.pt": cumsum})


# A tiny Llama whose linears GPTQ can pack (32 input and 32 output features per word column /
# row): 1 layer, hidden 32, 2 heads of 16 (2 KV heads), intermediate 32, vocabulary 8.
QUANT_SIZES = ["--layers", "1", "--hidden", "32", "--heads", "2", "--kv-heads", "2",
               "--intermediate", "32", "--vocab", "8", "--max-pos", "16"]
Q_PROJ = "model.layers.0.self_attn.q_proj"
K_PROJ = "model.layers.0.self_attn.k_proj"
V_PROJ = "model.layers.0.self_attn.v_proj"
O_PROJ = "model.layers.0.self_attn.o_proj"


def make_quantized(tmp, name, *args):
    """A quantized checkpoint of the QUANT_SIZES Llama, written by python/make_quantized_model.py
    with `args` (the format and its options): {file name: bytes}."""
    source = os.path.join(tmp, "quant-float")
    if not os.path.isdir(source):
        make_tiny(tmp, "quant-float", "llama", *QUANT_SIZES)
    out = os.path.join(tmp, name)
    subprocess.run([sys.executable, os.path.join(PYTHON_DIR, "make_quantized_model.py"), source,
                    out, *args], check=True, stdout=subprocess.DEVNULL)
    files = {}
    for file_name in sorted(os.listdir(out)):
        with open(os.path.join(out, file_name), "rb") as f:
            files[file_name] = f.read()
    return files


def edited(files, quant=None, drop=(), replace=None, add=()):
    """A copy of a quantized checkpoint's `files`: quantization_config updated by `quant` (a
    value of None deletes the key; quant=False deletes quantization_config), tensors dropped
    (`drop`), replaced (`replace`: {name: function (dtype, shape, bytes) -> (dtype, shape,
    bytes)}) or appended (`add`: [(name, dtype, shape, bytes)])."""
    out = dict(files)
    if quant is not None:
        cfg = json.loads(files["config.json"])
        if quant is False:
            del cfg["quantization_config"]
        for key, value in (quant or {}).items():
            if value is None:
                cfg["quantization_config"].pop(key, None)
            else:
                cfg["quantization_config"][key] = value
        out["config.json"] = json_bytes(cfg)
    if drop or replace or add:
        tensors = st_read(files["model.safetensors"])
        unknown = (set(drop) | set(replace or {})) - {t[0] for t in tensors}
        assert not unknown, unknown
        result = []
        for name, dtype, shape, data in tensors:
            if name in drop:
                continue
            if replace and name in replace:
                dtype, shape, data = replace[name](dtype, shape, data)
            result.append((name, dtype, shape, data))
        out["model.safetensors"] = st_write(result + list(add))
    return out


def int32s(values):
    return struct.pack("<%di" % len(values), *values)


def quant_cases(tmp):
    cat = "quantization"
    gptq = make_quantized(tmp, "quant-gptq", "--format", "gptq", "--group-size", "16")
    awq = make_quantized(tmp, "quant-awq", "--format", "awq", "--group-size", "16")
    fp8 = make_quantized(tmp, "quant-fp8", "--format", "fp8", "--fp8-block", "16,16")

    def q_case(name, description, files, expect, args=None):
        case(name, cat, description, "vgcu-compile", args or compile_args(), expect, files)

    # quantization_config
    q_case("quant-unsupported-method", "a GPTQ checkpoint whose quant_method is 'bitsandbytes'",
           edited(gptq, quant={"quant_method": "bitsandbytes"}),
           "config.json: quantization_config.quant_method 'bitsandbytes' is not supported (vgcu "
           "reads gptq, awq and fp8 checkpoints)")
    q_case("quant-gptq-bits-3", "a GPTQ checkpoint whose config says bits 3",
           edited(gptq, quant={"bits": 3}),
           "config.json: quantization_config.bits is 3; vgcu reads 4- and 8-bit GPTQ")
    q_case("quant-group-size-zero", "a GPTQ checkpoint whose config says group_size 0",
           edited(gptq, quant={"group_size": 0}),
           "config.json: quantization_config.group_size must be positive or -1, got 0")
    q_case("quant-gptq-checkpoint-format", "a GPTQ checkpoint whose checkpoint_format is 'marlin'",
           edited(gptq, quant={"checkpoint_format": "marlin"}),
           "config.json: quantization_config.checkpoint_format 'marlin' is not supported (gptq or "
           "gptq_v2)")
    q_case("quant-awq-version-gemv", "an AWQ checkpoint whose config says version 'gemv' (vgcu "
           "reads the GEMM layout)", edited(awq, quant={"version": "gemv"}),
           "config.json: quantization_config.version 'gemv' is not supported (vgcu reads "
           "AutoAWQ's GEMM layout)")
    q_case("quant-awq-zero-point-false", "an AWQ checkpoint whose config says zero_point false",
           edited(awq, quant={"zero_point": False}),
           "config.json: quantization_config.zero_point is false; vgcu reads AWQ checkpoints with "
           "zero points")
    q_case("quant-awq-group-not-dividing", "an AWQ checkpoint whose config says group_size 24, "
           "which does not divide the 32 input features (the first module read is down_proj)",
           edited(awq, quant={"group_size": 24}),
           "checkpoint tensor 'model.layers.0.mlp.down_proj.qweight' has 32 input features, not a "
           "multiple of quantization_config.group_size 24")
    q_case("quant-fp8-block-size-malformed", "an FP8 checkpoint whose weight_block_size is [128] "
           "(one number, not [rows, cols])", edited(fp8, quant={"weight_block_size": [128]}),
           "config.json: quantization_config.weight_block_size must be two positive integers "
           "[rows, cols]")
    q_case("quant-fp8-fmt-e5m2", "an FP8 checkpoint whose config says fmt 'e5m2'",
           edited(fp8, quant={"fmt": "e5m2"}),
           "config.json: quantization_config.fmt 'e5m2' is not supported (FP8 weights are read as "
           "e4m3)")

    # GPTQ and AWQ tensors
    q_case("quant-gptq-qweight-f32", "a GPTQ qweight stored as F32 (same bytes) instead of I32",
           edited(gptq, replace={Q_PROJ + ".qweight": lambda d, s, b: ("F32", s, b)}),
           "checkpoint tensor '" + Q_PROJ + ".qweight' has dtype F32 and shape [4, 32]; GPTQ "
           "packs a weight into a 2-d I32 tensor")
    q_case("quant-gptq-scales-missing", "a GPTQ module without its scales",
           edited(gptq, drop=[Q_PROJ + ".scales"]),
           "checkpoint has no tensor '" + Q_PROJ + ".scales' (GPTQ 4-bit with group_size 16 over "
           "a [32, 32] weight (from '" + Q_PROJ + ".qweight'))")
    q_case("quant-gptq-scales-wrong-shape", "a GPTQ module's scales are [1, 32] where 2 groups "
           "of 16 input features need [2, 32]",
           edited(gptq, replace={Q_PROJ + ".scales": lambda d, s, b: (d, [1, 32], b[:64])}),
           "checkpoint tensor '" + Q_PROJ + ".scales' has shape [1, 32]; GPTQ 4-bit with "
           "group_size 16 over a [32, 32] weight (from '" + Q_PROJ + ".qweight') makes it [2, 32]")
    q_case("quant-gptq-qzeros-wrong-shape", "a GPTQ module's qzeros are [2, 8] (8 bits' packing) "
           "where 4 bits pack them into [2, 4]",
           edited(gptq, replace={Q_PROJ + ".qzeros": lambda d, s, b: (d, [2, 8], b + b)}),
           "checkpoint tensor '" + Q_PROJ + ".qzeros' has shape [2, 8]; GPTQ 4-bit with "
           "group_size 16 over a [32, 32] weight (from '" + Q_PROJ + ".qweight') makes it [2, 4]")
    q_case("quant-awq-scales-f16-as-i32", "an AWQ module's scales are I32 [2, 16] (the bytes of "
           "its F16 [2, 32]), not a float tensor",
           edited(awq, replace={Q_PROJ + ".scales": lambda d, s, b: ("I32", [2, 16], b)}),
           "checkpoint tensor '" + Q_PROJ + ".scales' has dtype I32; AWQ 4-bit with group_size 16 "
           "over a [32, 32] weight (from '" + Q_PROJ + ".qweight') stores it as F16, BF16 or F32")

    def out_of_range(dtype, shape, data):
        index = list(struct.unpack("<%di" % shape[0], data))
        index[5] = 7
        return dtype, shape, int32s(index)
    # o_proj is read alone: in a packed projection (q/k/v) the group index makes the part
    # act-order, which differs from the other parts' schemes before the range is checked.
    q_case("quant-gptq-g-idx-out-of-range", "a GPTQ g_idx puts o_proj's input feature 5 in "
           "group 7 of 2", edited(gptq, replace={O_PROJ + ".g_idx": out_of_range}),
           "'" + O_PROJ + ".g_idx'[5] is 7, but there are 2 groups")
    q_case("quant-gptq-desc-act-no-g-idx", "a GPTQ checkpoint with desc_act true whose q_proj "
           "has no g_idx", edited(gptq, quant={"desc_act": True}, drop=[Q_PROJ + ".g_idx"]),
           "checkpoint has no tensor '" + Q_PROJ + ".g_idx', which desc_act needs")
    def interleaved(first):
        """A g_idx replacement: groups first, 1 - first, first, ... (act order, in range)."""
        return lambda d, s, b: (d, s, int32s([(first + i) % 2 for i in range(32)]))
    q_case("quant-gptq-act-order-groups-differ", "act-order g_idx of q_proj differs from k_proj's "
           "and v_proj's (they read one input and are packed into qkv_proj)",
           edited(gptq, quant={"desc_act": True},
                  replace={Q_PROJ + ".g_idx": interleaved(0), K_PROJ + ".g_idx": interleaved(1),
                           V_PROJ + ".g_idx": interleaved(1)}),
           "parameter 'model.layers.0.self_attn.qkv_proj.weight': its parts have different "
           "act-order groups (g_idx); they read one input and must share them")

    # FP8 tensors
    q_case("quant-fp8-no-scale", "an FP8 weight with neither weight_scale_inv nor weight_scale",
           edited(fp8, drop=[Q_PROJ + ".weight_scale_inv"]),
           "checkpoint tensor '" + Q_PROJ + ".weight' is FP8 but the checkpoint has neither '"
           + Q_PROJ + ".weight_scale_inv' nor '" + Q_PROJ + ".weight_scale' to scale it")
    q_case("quant-fp8-scale-inv-wrong-shape", "an FP8 weight_scale_inv of [1, 2] where 16x16 "
           "blocks of a [32, 32] weight need [2, 2]",
           edited(fp8, replace={Q_PROJ + ".weight_scale_inv": lambda d, s, b: (d, [1, 2], b[:8])}),
           "checkpoint tensor '" + Q_PROJ + ".weight_scale_inv' has shape [1, 2]; a [32, 32] "
           "weight in 16x16 blocks makes it [2, 2]")
    q_case("quant-fp8-weight-scale-wrong-shape", "an FP8 weight with a weight_scale of [2]: "
           "neither one per tensor nor one per output channel",
           edited(fp8, drop=[Q_PROJ + ".weight_scale_inv"],
                  add=[(Q_PROJ + ".weight_scale", "F32", [2], f32(2, 0.5))]),
           "checkpoint tensor '" + Q_PROJ + ".weight_scale' has dtype F32 and shape [2]; an FP8 "
           "weight's scale is one float ([] or [1]) or one per output channel ([32] or [32, 1])")
    q_case("quant-fp8-scale-not-finite", "an FP8 weight_scale_inv holding an infinity",
           edited(fp8, replace={Q_PROJ + ".weight_scale_inv":
                                lambda d, s, b: (d, s, b[:4] + struct.pack("<f", float("inf"))
                                                 + b[8:])}),
           "'" + Q_PROJ + ".weight_scale_inv' holds a scale that is not finite")
    q_case("quant-fp8-nan-code", "an FP8 weight holding the NaN code 0x7f",
           edited(fp8, replace={Q_PROJ + ".weight": lambda d, s, b: (d, s, b[:100] + b"\x7f"
                                                                      + b[101:])}),
           "'" + Q_PROJ + ".weight' holds a NaN (FP8 code 0x7f)")
    q_case("quant-fp8-not-a-weight", "an FP8 checkpoint with a 1-d FP8 tensor that is no "
           "module's weight",
           edited(fp8, add=[("model.layers.0.mlp.extra_scale", "F8_E4M3", [4], b"\x38" * 4)]),
           "checkpoint tensor 'model.layers.0.mlp.extra_scale' is FP8; vgcu reads FP8 linear "
           "weights (<module>.weight) only")
    q_case("quant-fp8-without-config", "FP8 weights and their scales, but config.json has no "
           "quantization_config", edited(fp8, quant=False),
           "checkpoint tensor 'model.layers.0.mlp.down_proj.weight' has dtype F8_E4M3; parameter "
           "'model.layers.0.mlp.down_proj.weight' needs F32, F16 or BF16 (an FP8 checkpoint needs "
           "a quantization_config with quant_method \"fp8\" in config.json)")
    q_case("quant-gptq-scale-not-finite", "a GPTQ q_proj scale (f16) that is an infinity",
           edited(gptq, replace={Q_PROJ + ".scales":
                                 lambda d, s, b: (d, s, b[:2] + struct.pack("<H", 0x7c00) + b[4:])}),
           "'" + Q_PROJ + ".scales' holds a scale that is not finite")
    q_case("quant-gptq-g-idx-packed-out-of-range", "a GPTQ g_idx out of range in q_proj, a part "
           "of the packed qkv_proj", edited(gptq, replace={Q_PROJ + ".g_idx": out_of_range}),
           "'" + Q_PROJ + ".g_idx'[5] is 7, but there are 2 groups")

    # Blocks against packing and tensor parallelism
    fp8_24 = make_quantized(tmp, "quant-fp8-24", "--format", "fp8", "--fp8-block", "24,24")
    q_case("quant-fp8-block-cuts-packed-part", "an FP8 checkpoint in 24x24 blocks: q_proj's 32 "
           "rows end inside a block, so q, k and v cannot be stacked into qkv_proj", fp8_24,
           "parameter 'model.layers.0.self_attn.qkv_proj.weight': a part of 32 rows does not fill "
           "whole 24-row scale blocks")
    fp8_32 = make_quantized(tmp, "quant-fp8-32", "--format", "fp8", "--fp8-block", "32,32")
    q_case("quant-fp8-tp-cuts-blocks", "an FP8 checkpoint in 32x32 blocks (it compiles at --tp 1) "
           "at --tp 2: each rank's 16 rows of q_proj are half a block", fp8_32,
           "cannot shard for tensor parallelism: tp = 2 gives rank 0 rows [0, 16) of 96, which "
           "cuts the quantization blocks of 32 rows",
           args=["{case}", "-o", "{out}", "--tp", "2", "--log-level=warn"])

    # vgcu-compile --quantize
    q_case("quant-quantize-prequantized", "--quantize w8a16 on a GPTQ checkpoint", gptq,
           "config.json describes a gptq 4-bit, group 16 checkpoint; --quantize applies to float "
           "checkpoints", args=compile_args() + ["--quantize", "w8a16"])
    q_case("quant-quantize-bad-mode", "--quantize int3", tiny_llama(tmp),
           "--quantize must be w8a16, fp8 or fp8-block, not 'int3'",
           args=compile_args() + ["--quantize", "int3"])
    q_case("quant-quantize-without-output", "--quantize with --emit=graph and no -o (nothing to "
           "store quantized)", tiny_llama(tmp),
           "--quantize applies to the weights: pass -o NAME.vgcu",
           args=["{case}", "--emit=graph", "--quantize", "fp8"])
    q_case("quant-kv-cache-dtype-bad", "--kv-cache-dtype int4", tiny_llama(tmp),
           "--kv-cache-dtype must be auto, int8 or fp8_e4m3, not 'int4'",
           args=compile_args() + ["--kv-cache-dtype", "int4"])


def output_cases(tmp):
    cat = "output"
    name = "m" * 256
    case("out-name-too-long", cat, "the output name has 256 bytes, more than a file name may "
         "have", "vgcu-compile", compile_args(), "is 256 bytes long; file names may have at most "
         "255", {"config.json": tiny_llama(tmp)["config.json"]}, out_name=name, expect_last=True)


def tokenizer_cases(tmp):
    cat = "tokenizer"

    def tokenizer_json(model=None, **stages):
        spec = {"model": model or {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2},
                                   "merges": ["a b"]}}
        spec.update(stages)
        return json_bytes(spec)

    def tok_case(name, description, files, expect, args=("--text", "ab")):
        case(name, cat, description, "vgcu-tokenize", ["{case}", *args], expect, files)

    tok_case("tok-missing", "the directory has no tokenizer.json",
             {"tokenizer_config.json": b"{}\n"},
             "{case} has no tokenizer.json (vgcu reads Hugging Face fast-tokenizer files)")
    tok_case("tok-sentencepiece-only", "a SentencePiece tokenizer.model and no tokenizer.json",
             {"tokenizer.model": b"\n\x05\n\x01a\x15\x00\x00\x00\x00"},
             "{case} has a SentencePiece tokenizer.model but no tokenizer.json; write one with "
             "transformers (AutoTokenizer.from_pretrained(dir).save_pretrained(dir) converts it)")
    tok_case("tok-not-json", "tokenizer.json is cut off in the middle",
             {"tokenizer.json": b'{"model": {"type": "BPE", "vocab": {"a": '},
             "{case}/tokenizer.json: invalid JSON")
    tok_case("tok-dev-zero", "tokenizer.json is a link to /dev/zero",
             {"tokenizer.json": Symlink("/dev/zero")},
             "tokenizer file '{case}/tokenizer.json' is a character device; only regular files "
             "are read")
    tok_case("tok-unigram", "a Unigram model (T5-style), which vgcu does not read",
             {"tokenizer.json": tokenizer_json({"type": "Unigram", "vocab": [["a", 0.0]]})},
             "{case}/tokenizer.json: model type 'Unigram' is not supported")
    tok_case("tok-merge-outside-vocab", "a merge names a token the vocabulary lacks",
             {"tokenizer.json": tokenizer_json({"type": "BPE", "vocab": {"a": 0, "ab": 2},
                                                "merges": ["a b"]})},
             "{case}/tokenizer.json: model: merge 0 ('a' 'b') names a token outside the "
             "vocabulary")
    tok_case("tok-merge-three-parts", "an old-format merge line with two spaces",
             {"tokenizer.json": tokenizer_json({"type": "BPE", "vocab": {"a": 0, "b": 1},
                                                "merges": ["a b c"]})},
             "{case}/tokenizer.json: model: merge 0 ('a b c') is not two tokens separated by "
             "one space")
    tok_case("tok-bad-regex", "a Split pre-tokenizer whose regular expression does not compile",
             {"tokenizer.json": tokenizer_json(pre_tokenizer={
                 "type": "Split", "pattern": {"Regex": "(\\p{L}+"}, "behavior": "Isolated",
                 "invert": False})},
             "{case}/tokenizer.json: pre_tokenizer (Split): regular expression '(\\p{L}+' does "
             "not compile")
    tok_case("tok-unknown-decoder", "a decoder type vgcu does not know",
             {"tokenizer.json": tokenizer_json(decoder={"type": "CTC"})},
             "{case}/tokenizer.json: decoder: decoder type 'CTC' is not supported")
    tok_case("tok-added-token-empty", "an added token with empty content",
             {"tokenizer.json": tokenizer_json(added_tokens=[{"id": 3, "content": ""}])},
             "{case}/tokenizer.json: added_tokens[0] needs an 'id' from 0 to 2^31-2 and a "
             "non-empty 'content'")
    tok_case("tok-config-not-json", "tokenizer_config.json is not JSON",
             {"tokenizer.json": tokenizer_json(), "tokenizer_config.json": b"{bos_token: <s>}\n"},
             "{case}/tokenizer_config.json: invalid JSON")
    tok_case("tok-bos-not-a-token", "a Llama tokenizer_config.json whose bos_token is not in "
             "the vocabulary",
             {"tokenizer.json": tokenizer_json(),
              "tokenizer_config.json": json_bytes({"tokenizer_class": "LlamaTokenizerFast",
                                                   "bos_token": "<s>"})},
             "{case}/tokenizer_config.json: add_bos_token is set but bos_token '<s>' is not a "
             "token")
    tok_case("tok-decode-outside-vocab", "--decode with an id past the vocabulary",
             {"tokenizer.json": tokenizer_json()},
             "token id 7 is not in the vocabulary (ids 0 to 2)", args=("--decode", "0,7"))
    tok_case("tok-batch-text-not-string", "a --batch line whose text is a number",
             {"tokenizer.json": tokenizer_json(), "texts.jsonl": b'{"text": "ab"}\n{"text": 5}\n'},
             "{case}/texts.jsonl:2: expected an object with a \"text\" string",
             args=("--batch", "{case}/texts.jsonl"))
    chat_json = tokenizer_json()
    tok_case("tok-chat-template-unclosed", "a chat template whose if is never closed",
             {"tokenizer.json": chat_json,
              "tokenizer_config.json": json_bytes({"chat_template": "{% if messages %}x"}),
              "chat.jsonl": b'{"messages": []}\n'},
             "chat_template: the template ends inside a block (missing endif)",
             args=("--chat", "{case}/chat.jsonl"))
    tok_case("tok-chat-template-raises", "the chat template refuses the conversation with "
             "raise_exception",
             {"tokenizer.json": chat_json,
              "tokenizer_config.json": json_bytes({"chat_template": "{{ raise_exception("
                                                   "'roles must alternate') }}"}),
              "chat.jsonl": b'{"messages": [{"role": "user", "content": "hi"}]}\n'},
             "chat.jsonl:1: chat_template: line 1: roles must alternate",
             args=("--chat", "{case}/chat.jsonl"))
    tok_case("tok-chat-no-template", "a chat request for a tokenizer without a chat template",
             {"tokenizer.json": chat_json, "chat.jsonl": b'{"messages": []}\n'},
             "the tokenizer has no chat_template (tokenizer_config.json)",
             args=("--chat", "{case}/chat.jsonl"))
    tok_case("tok-chat-messages-not-list", "a chat request whose messages is a string",
             {"tokenizer.json": chat_json,
              "tokenizer_config.json": json_bytes({"chat_template": "{{ messages }}"}),
              "chat.jsonl": b'{"messages": "hello"}\n'},
             "a chat request needs 'messages', a list", args=("--chat", "{case}/chat.jsonl"))
    tok_case("tok-chat-request-deeply-nested", "a chat request nesting 300 arrays",
             {"tokenizer.json": chat_json,
              "tokenizer_config.json": json_bytes({"chat_template": "{{ messages }}"}),
              "chat.jsonl": b'{"messages": ' + b"[" * 300 + b"]" * 300 + b"}\n"},
             "chat request: invalid JSON at byte 269: arrays and objects nest more than 256 "
             "levels deep", args=("--chat", "{case}/chat.jsonl"))
    good = tiny_llama(tmp)
    case("tok-compile-unsupported-model", cat, "a model directory whose tokenizer.json has a "
         "WordPiece model: compiling stops before anything is written", "vgcu-compile",
         compile_args(), "{case}/tokenizer.json: model type 'WordPiece' is not supported",
         {"config.json": good["config.json"], "model.safetensors": good["model.safetensors"],
          "tokenizer.json": tokenizer_json({"type": "WordPiece", "vocab": {"a": 0}})})


# The module header of a crafted program for the checker's tp 1 artifact (the tiny Llama of
# make_tiny_model.py: 2 layers, hidden 64, vocabulary 250, 128 positions).
PROGRAM_MODULE = ("module attributes {vgcu.architecture = \"LlamaForCausalLM\", vgcu.dtype = "
                  "\"F32\", vgcu.kv_block_size = 64 : i64, vgcu.kv_layers = 2 : i64, "
                  "vgcu.max_positions = 128 : i64, vgcu.tp = 1 : i64} {\n")


# A crafted program whose entries embed the prompt and apply the LM head to the last token,
# after a kernel that writes into `target` (a memref of type `target_type`).
def writing_program(target, target_type):
    entry = (
        "  func.func @{name}(%ids: memref<?xi64>, %pos: memref<?xi64>, %slots: memref<?xi64>, "
        "%qsl: memref<?xi64>, %lens: memref<?xi64>, %blocks: memref<?x?xi64>) "
        "-> memref<?x250xf32> {{\n"
        "    %t = gcu.dim %ids, 0 : memref<?xi64>\n"
        "    %s = gcu.dim %lens, 0 : memref<?xi64>\n"
        "    %table = gcu.weight \"model.embed_tokens.weight\" : memref<250x64xf32>\n"
        "    gcu.unary neg ins({target} : {type}) outs({target} : {type})\n"
        "    %h = gcu.alloc(%t) : memref<?x64xf32>\n"
        "    gcu.embedding ins(%ids, %table : memref<?xi64>, memref<250x64xf32>) "
        "outs(%h : memref<?x64xf32>)\n"
        "    %last = gcu.last_token_view %h, %qsl : memref<?x64xf32>, memref<?xi64> "
        "-> memref<?x64xf32>\n"
        "    %head = gcu.weight \"lm_head.weight\" : memref<250x64xf32>\n"
        "    %logits = gcu.alloc(%s) : memref<?x250xf32>\n"
        "    gcu.gemm ins(%last, %head : memref<?x64xf32>, memref<250x64xf32>) "
        "outs(%logits : memref<?x250xf32>)\n"
        "    return %logits : memref<?x250xf32>\n"
        "  }}\n")
    return (PROGRAM_MODULE + "".join(entry.format(name=name, target=target, type=target_type)
                                     for name in ("prefill", "decode")) + "}\n")


def artifact_cases():
    cat = "artifact"
    run = lambda *extra: ["{artifact}", "--prompt-ids", "5,17,42", "--max-new-tokens", "2",
                          *extra]  # noqa: E731

    def art_case(name, description, mutate, expect, args=None, files=None, **extra):
        case(name, cat, description, "vgcu-run", args or run(), expect, files or {},
             mutate=mutate, **extra)

    art_case("art-changed-byte", "one byte in the middle of rank 0's weights is flipped",
             [{"flip_byte": "rank0/weights.safetensors"}],
             "{artifact}: file 'rank0/weights.safetensors' is corrupted (checksum ")
    art_case("art-changed-program-byte", "the first byte of program.mlirbc is flipped",
             [{"flip_byte": ["program.mlirbc", 0]}],
             "{artifact}: file 'program.mlirbc' is corrupted (checksum ")
    art_case("art-missing-rank-weights", "rank 1's weights file is deleted",
             [{"delete": "rank1/weights.safetensors"}],
             "{artifact}: file 'rank1/weights.safetensors' listed in the manifest is missing")
    art_case("art-truncated-program", "program.mlirbc is truncated to 1000 bytes",
             [{"truncate": ["program.mlirbc", 1000]}],
             "{artifact}: file 'program.mlirbc' has 1000 bytes, the manifest says ")
    art_case("art-wrong-abi-version", "abi_version is 99",
             [{"replace_manifest_text": ["\"abi_version\": 2,", "\"abi_version\": 99,"]}],
             "{artifact}/manifest.json: kernel ABI version 99 does not match this runtime's 2; "
             "recompile the model with this vgcu")
    art_case("art-missing-abi-version", "abi_version is removed",
             [{"manifest_delete": ["abi_version"]}],
             "{artifact}/manifest.json: missing abi_version")
    art_case("art-wrong-format", "format is \"onnx\"", [{"manifest_set": [["format"], "onnx"]}],
             "{artifact}/manifest.json: not a vgcu artifact (format is not \"vgcu-artifact\")")
    art_case("art-manifest-not-json", "manifest.json is not JSON",
             [{"write": {"manifest.json": "{\"format\": \"vgcu-artifact\", \n"}}],
             "{artifact}/manifest.json: invalid JSON: [")
    art_case("art-manifest-array", "manifest.json is a JSON array",
             [{"write": {"manifest.json": "[]\n"}}],
             "{artifact}/manifest.json: expected a JSON object")
    art_case("art-manifest-empty", "manifest.json is empty", [{"write": {"manifest.json": ""}}],
             "{artifact}/manifest.json: invalid JSON: [")
    art_case("art-manifest-without-files", "the manifest has no files table",
             [{"manifest_delete": ["files"]}], "{artifact}/manifest.json: missing the files table")
    art_case("art-manifest-without-kv-cache", "the manifest has no kv_cache",
             [{"manifest_delete": ["kv_cache"]}],
             "{artifact}/manifest.json: missing architecture, dtype, tp, vocab_size or kv_cache")
    art_case("art-unsupported-dtype", "the manifest's dtype is I32",
             [{"manifest_set": [["dtype"], "I32"]}],
             "{artifact}/manifest.json: unsupported dtype 'I32'")
    # A well-formed manifest that contradicts the program it lists.
    art_case("art-manifest-architecture", "the manifest names another architecture than the "
             "program's", [{"manifest_set": [["architecture"], "FooForCausalLM"]}],
             "field 'architecture' is 'FooForCausalLM', but the program is a LlamaForCausalLM")
    art_case("art-manifest-dtype-mismatch", "the manifest says BF16 but the program computes in "
             "F32", [{"manifest_set": [["dtype"], "BF16"]}],
             "field 'dtype' is BF16, but the program computes in F32")
    art_case("art-manifest-tp-mismatch", "the manifest of a tp 2 artifact says tp 1 and lists one "
             "rank", [{"manifest_set": [["tp"], 1]}, {"manifest_delete": ["ranks", 1]}],
             "field 'tp' is 1, but the program was sharded for tp = 2")
    art_case("art-manifest-recompute-added", "the manifest of a Llama artifact asks to recompute "
             "the sequence at 5 tokens, which its program does not", [{"manifest_set": [
                 ["recompute_at_length"], 5]}],
             "field 'recompute_at_length' is 5, but the program recomputes the sequence at length 0")
    art_case("art-manifest-recompute-invalid", "recompute_at_length is 1",
             [{"manifest_set": [["recompute_at_length"], 1]}],
             "recompute_at_length must be an integer of at least 2")
    art_case("art-manifest-kv-layers-extra", "the manifest's kv_cache.layers is 5 for a program "
             "with 2 attention layers", [{"manifest_set": [["kv_cache", "layers"], 5]}],
             "field 'kv_cache.layers' is 5, but the number of attention layers in the program is 2")
    art_case("art-manifest-max-positions", "the manifest raises max_position_embeddings above "
             "what the program was compiled for",
             [{"manifest_set": [["max_position_embeddings"], 100000]}],
             "field 'max_position_embeddings' is 100000, but the program was compiled for "
             "positions up to 128")
    art_case("art-manifest-ranks-swapped", "rank 0's weights entry names rank 1's weights file",
             [{"manifest_set": [["ranks", 0, "weights"], "rank1/weights.safetensors"]}],
             "field 'ranks[0].weights' names 'rank1/weights.safetensors', which holds the weights "
             "of rank 1")
    art_case("art-files-entry-dotdot", "a files entry '../outside.bin' escapes the artifact",
             [{"manifest_set": [["files", "../outside.bin"], {"bytes": 4, "xxh3_64": "0" * 16}]},
              {"write": {"../outside.bin": "evil"}}],
             "{artifact}/manifest.json: file entry '../outside.bin' needs a relative path, bytes and "
             "xxh3_64")
    art_case("art-files-entry-absolute", "a files entry names an absolute path",
             [{"manifest_set": [["files", "/etc/hostname"], {"bytes": 4, "xxh3_64": "0" * 16}]}],
             "{artifact}/manifest.json: file entry '/etc/hostname' needs a relative path, bytes and "
             "xxh3_64")
    # Files that are not regular files inside the artifact.
    art_case("art-symlink-outside", "rank 0's weights file is a symbolic link to a file outside "
             "the artifact", [{"symlink": ["rank0/weights.safetensors", "/etc/hostname"]}],
             "file 'rank0/weights.safetensors' is a link that leads outside the artifact")
    art_case("art-manifest-dev-zero", "manifest.json is a link to /dev/zero",
             [{"symlink": ["manifest.json", "/dev/zero"]}],
             "file 'manifest.json' is a link that leads outside the artifact")
    art_case("art-manifest-fifo", "manifest.json is a FIFO (reading it would wait forever)",
             [{"fifo": "manifest.json"}],
             "manifest '{artifact}/manifest.json' is a FIFO; only regular files are read")
    art_case("art-rank-weights-dotdot", "rank 1's weights path goes through '..' (listed in files)",
             [{"manifest_set": [["ranks", 1, "weights"], "rank1/../rank0/weights.safetensors"]},
              {"manifest_set": [["files", "rank1/../rank0/weights.safetensors"],
                                {"bytes": 4, "xxh3_64": "0" * 16}]}],
             "{artifact}/manifest.json: rank 1 names 'rank1/../rank0/weights.safetensors', which "
             "is not a listed file of the artifact")
    art_case("art-rank-weights-unlisted", "rank 1's weights file is not in the files table",
             [{"manifest_delete": ["files", "rank1/weights.safetensors"]}],
             "{artifact}/manifest.json: rank 1 names 'rank1/weights.safetensors', which is not a "
             "listed file of the artifact")
    art_case("art-rank-number-wrong", "the second rank entry says rank 0",
             [{"manifest_set": [["ranks", 1, "rank"], 0]}],
             "{artifact}/manifest.json: rank 1 needs its rank number, program and weights")
    art_case("art-ranks-count-not-tp", "tp is 4 but the manifest lists 2 ranks",
             [{"manifest_set": [["tp"], 4]}], "{artifact}/manifest.json: expected 4 ranks")
    art_case("art-tp-zero", "tp is 0", [{"manifest_set": [["tp"], 0]}],
             "{artifact}/manifest.json: tp 0 is out of range")
    art_case("art-ranks-count-not-tp-times-ep", "ep is 2 but the manifest lists tp = 2 ranks",
             [{"manifest_set": [["ep"], 2]}],
             "{artifact}/manifest.json: expected 4 ranks (tp 2 x ep 2)")
    art_case("art-ep-zero", "ep is 0", [{"manifest_set": [["ep"], 0]}],
             "{artifact}/manifest.json: ep must be an integer from 1 to 1024 with at most 1024 "
             "ranks in all")
    art_case("art-eos-outside-vocab", "eos_token_ids names token 250 of a 250-token vocabulary",
             [{"manifest_set": [["eos_token_ids"], [2, 250]]}],
             "{artifact}/manifest.json: eos_token_ids must hold token ids in [0, vocab_size)")
    # Request files of vgcu-run --requests: the error names the file, the line and the field.
    requests = lambda *extra: ["{artifact}", "--requests", "{case}/requests.jsonl",  # noqa: E731
                               *extra]
    for name, description, lines, expect in [
        ("req-not-json", "line 2 of the request file is not JSON",
         ['{"prompt_ids": [1, 2]}', '{"prompt_ids": [1,'],
         "{case}/requests.jsonl:2: invalid JSON"),
        ("req-not-object", "a request is a JSON array", ["[1, 2, 3]"],
         "{case}/requests.jsonl:1: a request must be a JSON object"),
        ("req-missing-prompt", "a request without prompt_ids", ['{"id": "a"}'],
         "{case}/requests.jsonl:1: 'prompt_ids' is missing"),
        ("req-empty-prompt", "a request whose prompt_ids is empty", ['{"prompt_ids": []}'],
         "{case}/requests.jsonl:1: 'prompt_ids' is empty"),
        ("req-token-outside-vocab", "a prompt token id of 250 in a 250-token vocabulary",
         ['{"prompt_ids": [1, 250]}'],
         "{case}/requests.jsonl:1: 'prompt_ids': token id 250 is outside the vocabulary [0, 250)"),
        ("req-token-not-integer", "a prompt token id is a string", ['{"prompt_ids": [1, "2"]}'],
         "{case}/requests.jsonl:1: 'prompt_ids' must be a list of token ids"),
        ("req-duplicate-id", "two requests share the id 'a'",
         ['{"id": "a", "prompt_ids": [1]}', '{"id": "a", "prompt_ids": [2]}'],
         "{case}/requests.jsonl:2: id 'a' is used by an earlier request"),
        ("req-unknown-field", "a misspelt field (max_token)",
         ['{"prompt_ids": [1], "max_token": 4}'],
         "{case}/requests.jsonl:1: unknown field 'max_token'"),
        ("req-bad-top-p", "top_p is 1.5", ['{"prompt_ids": [1], "top_p": 1.5}'],
         "{case}/requests.jsonl:1: top_p must be in (0, 1], got 1.5"),
        ("req-negative-temperature", "temperature is -0.5",
         ['{"prompt_ids": [1], "temperature": -0.5}'],
         "{case}/requests.jsonl:1: temperature must be a finite number >= 0, got -0.5"),
        ("req-zero-max-tokens", "max_tokens is 0", ['{"prompt_ids": [1], "max_tokens": 0}'],
         "{case}/requests.jsonl:1: max_tokens must be at least 1, got 0"),
        ("req-too-long", "a prompt of 3 tokens with 200 new tokens on a 128-position model",
         ['{"id": "long", "prompt_ids": [1, 2, 3], "max_tokens": 200}'],
         "request 'long': its prompt of 3 tokens plus 200 new tokens needs 202 positions, more "
         "than the model's 128"),
        ("req-empty-file", "the request file has only blank lines", ["", "  "],
         "{case}/requests.jsonl: no requests"),
    ]:
        art_case(name, description, [], expect, args=requests(),
                 files={"requests.jsonl": text("\n".join(lines) + "\n")})
    art_case("req-cache-too-small", "--kv-cache-blocks 1 for a request needing 2 blocks", [],
             "request 'big': it needs 2 KV cache blocks for 70 positions; the cache has 1",
             args=requests("--kv-cache-blocks", "1"),
             files={"requests.jsonl": text(
                 '{"id": "big", "prompt_ids": [%s], "max_tokens": 11}\n'
                 % ", ".join(["1"] * 60))})
    art_case("req-and-prompt", "--requests and --prompt-ids together", [],
             "--prompt, --chat, --prompt-ids and --requests exclude each other",
             args=requests("--prompt-ids", "1,2"),
             files={"requests.jsonl": text('{"prompt_ids": [1]}\n')})
    art_case("art-nnodes-uneven", "--nnodes 3 for an artifact of 2 ranks", [],
             "the artifact's 2 ranks do not split evenly over 3 hosts",
             args=["{artifact}", *run()[1:], "--nnodes", "3"])
    art_case("art-node-rank-outside", "--node-rank 2 of --nnodes 2", [],
             "--node-rank must be in [0, --nnodes)",
             args=["{artifact}", *run()[1:], "--nnodes", "2", "--node-rank", "2"])
    art_case("art-node-rank-without-port", "host 1 of 2 without --master-port", [],
             "--node-rank 1 needs --master-port (host 0 prints its port)",
             args=["{artifact}", *run()[1:], "--nnodes", "2", "--node-rank", "1"])

    def serve_case(name, description, args, expect):
        case(name, cat, description, "vgcu-serve", ["{artifact}", "--port", "0", *args], expect,
             {}, mutate=[])

    serve_case("serve-no-tokenizer", "vgcu-serve for an artifact whose model had no "
               "tokenizer.json", [],
               "artifact '{artifact}' carries no tokenizer (its model directory had no "
               "tokenizer.json); vgcu-serve takes and gives text")
    serve_case("serve-max-model-len-too-large", "--max-model-len past the model's positions",
               ["--max-model-len", "100000"],
               "--max-model-len 100000 is more than the model's 128 positions")
    serve_case("serve-node-rank-without-port", "vgcu-serve host 1 of 2 without --master-port",
               ["--nnodes", "2", "--node-rank", "1"],
               "--node-rank 1 needs --master-port (host 0 prints its port)")
    art_case("art-prompt-text-without-tokenizer", "--prompt for an artifact whose model had no "
             "tokenizer.json", [],
             "artifact '{artifact}' carries no tokenizer (its model directory had no "
             "tokenizer.json): give the prompt as --prompt-ids",
             args=["{artifact}", "--prompt", "Hello", "--max-new-tokens", "2"])
    art_case("art-manifest-tokenizer-unlisted", "the manifest names a tokenizer directory "
             "whose tokenizer.json is not a listed file",
             [{"manifest_set": [["tokenizer"], "tokenizer"]}],
             "{artifact}/manifest.json: tokenizer must name a directory of the artifact whose "
             "tokenizer.json is a listed file")
    art_case("art-missing-manifest", "manifest.json is deleted", [{"delete": "manifest.json"}],
             "artifact '{artifact}' has no manifest.json")
    art_case("art-not-a-directory", "the artifact path is a regular file", [],
             "artifact '{case}/model.vgcu' is not a directory",
             args=["{case}/model.vgcu", "--prompt-ids", "5", "--max-new-tokens", "1"],
             files={"model.vgcu": b"not a directory\n"})
    art_case("art-nonexistent", "the artifact path does not exist", [],
             "artifact '{case}/missing.vgcu' is not a directory",
             args=["{case}/missing.vgcu", "--prompt-ids", "5", "--max-new-tokens", "1"])
    # With --no-verify-checksums only the sizes are checked: the loaders themselves must refuse
    # corrupt content.
    art_case("art-garbage-program-unverified", "program.mlirbc is overwritten with 0x41 bytes of the "
             "same size, run with --no-verify-checksums",
             [{"fill": ["program.mlirbc", 0x41]}],
             "program '{artifact}/program.mlirbc' is not MLIR bytecode",
             args=run("--no-verify-checksums"))
    art_case("art-text-program-unverified", "the manifest points both ranks at a text program "
             "(program.mlir, listed with its size), run with --no-verify-checksums",
             [{"write": {"program.mlir": "module {}\n"}},
              {"manifest_set": [["files", "program.mlir"], {"bytes": 10, "xxh3_64": "0" * 16}]},
              {"manifest_set": [["ranks", 0, "program"], "program.mlir"]},
              {"manifest_set": [["ranks", 1, "program"], "program.mlir"]}],
             "program '{artifact}/program.mlir' is not MLIR bytecode",
             args=run("--no-verify-checksums"))
    # Crafted programs: valid IR (program.mlir of the case, as bytecode) that the runtime must
    # refuse before running it.
    art_case("art-program-entry-without-body", "the program declares @prefill and @decode without "
             "bodies", [{"program_mlir": "program.mlir"}],
             "entry @prefill is declared without a body", args=run("--no-verify-checksums"),
             files={"program.mlir": text(PROGRAM_MODULE + "".join(
                 "  func.func private @%s(memref<?xi64>, memref<?xi64>, memref<?xi64>, "
                 "memref<?xi64>, memref<?xi64>, memref<?x?xi64>) -> memref<?x250xf32>\n" % entry
                 for entry in ("prefill", "decode")) + "}\n")},
             artifact_tp=1)
    art_case("art-program-writes-weight", "a crafted program (valid IR) whose kernel writes into a "
             "weight, a read-only mapping", [{"program_mlir": "program.mlir"}],
             "writes into a weight (weights are read-only)", args=run("--no-verify-checksums"),
             files={"program.mlir": text(writing_program("%table", "memref<250x64xf32>"))},
             artifact_tp=1)
    art_case("art-program-writes-input", "a crafted program whose kernel writes into the "
             "positions argument", [{"program_mlir": "program.mlir"}],
             "writes into an argument of the entry (inputs belong to the runtime)",
             args=run("--no-verify-checksums"),
             files={"program.mlir": text(writing_program("%pos", "memref<?xi64>"))},
             artifact_tp=1)
    art_case("art-garbage-weights-unverified", "rank 0's weights are zeroed (same size), run with "
             "--no-verify-checksums",
             [{"fill": ["rank0/weights.safetensors", 0]}],
             "rank0/weights.safetensors: invalid safetensors file: header does not start with '{'",
             args=run("--no-verify-checksums"))
    art_case("art-nan-logits", "a NaN final-norm weight (checksums not verified) makes every "
             "logit NaN",
             [{"fill_tensor": ["rank0/weights.safetensors", "model.norm.weight", 0xFF]}],
             "the model produced non-finite logits (NaN or infinity) for the prompt",
             args=run("--json", "--no-verify-checksums"), artifact_tp=1)
    art_case("art-vocab-larger-than-weights", "the manifest says vocab_size 100000 (the weights "
             "have 250 rows) and the prompt uses token 5000",
             [{"manifest_set": [["vocab_size"], 100000]}],
             "does not return logits [sequences, vocab] over the manifest's vocab_size of 100000 tokens",
             args=["{artifact}", "--prompt-ids", "5000", "--max-new-tokens", "1"])
    art_case("art-vocab-larger-than-weights-tp1", "as art-vocab-larger-than-weights, on a tp 1 "
             "artifact", [{"manifest_set": [["vocab_size"], 100000]}],
             "does not return logits [sequences, vocab] over the manifest's vocab_size of 100000 tokens",
             args=["{artifact}", "--prompt-ids", "5000", "--max-new-tokens", "1"], artifact_tp=1)
    art_case("art-max-new-tokens-overflow", "--max-new-tokens 2^63-1: prompt plus new tokens "
             "overflows int64", [], "more than the model's 128 positions",
             args=["{artifact}", "--prompt-ids", "5,17,42", "--max-new-tokens",
                   str(2**63 - 1)])
    # A KV cache that cannot be allocated is test/Runtime/kv-cache-unallocatable.test (a model
    # compiled for 2^30 positions), not a case here.
    art_case("art-manifest-deeply-nested", "manifest.json nests %d JSON arrays" % DEPTH,
             [{"write_pattern": {"manifest.json": nested('{"format": "vgcu-artifact", "x": ',
                                                         "}\n")}}],
             "{artifact}/manifest.json: invalid JSON", timeout=30)
    art_case("art-prompt-outside-vocabulary", "prompt token 999 with a 250-token vocabulary", [],
             "--prompt-ids: token id 999 is outside the vocabulary [0, 250)",
             args=["{artifact}", "--prompt-ids", "5,999", "--max-new-tokens", "1"])
    art_case("art-prompt-negative", "prompt token -1", [],
             "--prompt-ids: token id -1 is outside the vocabulary [0, 250)",
             args=["{artifact}", "--prompt-ids", "-1", "--max-new-tokens", "1"])
    art_case("art-prompt-not-integer", "prompt token 'x'", [],
             "--prompt-ids: 'x' is not an integer",
             args=["{artifact}", "--prompt-ids", "5,x", "--max-new-tokens", "1"])
    art_case("art-prompt-empty", "an empty prompt (just a comma)", [],
             "--prompt-ids: entry 1 of ',' is empty",
             args=["{artifact}", "--prompt-ids", ",", "--max-new-tokens", "1"])
    for kind, ids, entry in [("empty-entry", "5,,17", 2), ("leading-comma", ",5", 1),
                             ("trailing-comma", "5,", 2)]:
        art_case("art-prompt-ids-" + kind, "--prompt-ids %s has an empty entry" % ids, [],
                 "--prompt-ids: entry %d of '%s' is empty" % (entry, ids),
                 args=["{artifact}", "--prompt-ids", ids, "--max-new-tokens", "2"])
    art_case("art-too-many-tokens", "prompt plus new tokens exceed the 128 positions", [],
             "prompt plus 500 new tokens needs 500 positions (the last new token is not fed "
             "back), more than the model's 128",
             args=["{artifact}", "--prompt-ids", "5", "--max-new-tokens", "500"])
    art_case("art-negative-max-new-tokens", "--max-new-tokens -1", [],
             "--max-new-tokens must not be negative",
             args=["{artifact}", "--prompt-ids", "5", "--max-new-tokens", "-1"])
    art_case("art-num-threads-too-many", "--num-threads 100000 (it would never finish starting "
             "threads)", [], "--num-threads must be between 0 (automatic) and 1024, got 100000",
             args=run("--num-threads", "100000"))


def ir_cases():
    cat = "ir"

    def ir_case(name, description, source, expect, file_name="input.mlir", extra=(), **fields):
        case(name, cat, description, "vgcu-opt",
             ["{case}/" + file_name, *extra, "-o", "{out}"], expect, {file_name: text(source)},
             out_name="out.mlir", **fields)

    ir_case("ir-unknown-op", "an op vgcu does not define (vgcu.frobnicate)",
            "func.func @f(%x: tensor<?x64xf32>) {\n"
            "  %0 = vgcu.frobnicate %x : tensor<?x64xf32>\n"
            "  return\n}\n",
            "input.mlir:2:8: error: custom op 'vgcu.frobnicate' is unknown")
    ir_case("ir-unregistered-dialect", "an op of a dialect vgcu-opt does not load",
            "func.func @f() {\n  \"foo.bar\"() : () -> ()\n  return\n}\n",
            "input.mlir:2:12: error: operation being parsed with an unregistered dialect")
    ir_case("ir-undefined-value", "a use of %missing, never defined",
            "func.func @f() {\n"
            "  %0 = vgcu.exp %missing : tensor<?x64xf32>\n"
            "  return\n}\n",
            "input.mlir:2:17: error: use of undeclared SSA value name")
    ir_case("ir-vgcu-verifier", "vgcu.linear whose input has 32 features for a weight of 64",
            "func.func @f(%x: tensor<?x32xf32>, %w: tensor<128x64xf32>) {\n"
            "  %0 = vgcu.linear %x, %w : tensor<?x32xf32>, tensor<128x64xf32> -> tensor<?x128xf32>\n"
            "  return\n}\n",
            "input.mlir:2:8: error: 'vgcu.linear' op input has 32 features but the weight expects 64")
    ir_case("ir-gcu-verifier", "gcu.slice_view past the end of its dimension",
            "func.func @f(%x: memref<?x128xf32>) {\n"
            "  %0 = gcu.slice_view %x {dim = 1 : i64, start = 72 : i64, end = 200 : i64} : "
            "memref<?x128xf32> -> memref<?x128xf32>\n"
            "  return\n}\n",
            "input.mlir:2:8: error: 'gcu.slice_view' op range end 200 exceeds dimension size 128")
    ir_case("ir-gcu-weight-empty-name", "gcu.weight with an empty name",
            "func.func @f() {\n  %0 = gcu.weight \"\" : memref<64xf32>\n  return\n}\n",
            "input.mlir:2:8: error: 'gcu.weight' op name must not be empty")
    ir_case("ir-truncated", "the file stops in the middle of a function",
            "func.func @f(%x: tensor<?x64xf32>) {\n"
            "  %0 = vgcu.exp %x : tensor<?x64xf32>\n"
            "  return\n",
            "input.mlir:3:9: error: expected operation name in quotes")
    ir_case("ir-bad-shard-attr", "#vgcu.shard whose segment of 6 units does not divide among "
            "4 ranks",
            "func.func @f() {\n"
            "  %0 = vgcu.param \"w\" shard(#vgcu.shard<dim = 0, tp = 4, segments = [96], "
            "units = [6]>) : tensor<16xf32>\n"
            "  return\n}\n",
            "error: shard segment of 6 units does not divide among 4 ranks")
    ir_case("ir-incomplete-shard-attr", "#vgcu.shard without segments and units",
            "func.func @f() {\n"
            "  %0 = vgcu.param \"w\" shard(#vgcu.shard<dim = 0, tp = 2>) : tensor<64xf32>\n"
            "  return\n}\n",
            "input.mlir:2:56: error: expected ','")
    ir_case("ir-shard-tp-zero", "#vgcu.shard with tp = 0",
            "func.func @f() {\n"
            "  %0 = vgcu.param \"w\" shard(#vgcu.shard<dim = 0, tp = 0, segments = [64], "
            "units = [64]>) : tensor<64xf32>\n"
            "  return\n}\n",
            "error: shard tp must be at least 1, got 0")
    ir_case("ir-truncated-bytecode", "MLIR bytecode cut after its magic number and version",
            b"ML\xefR\x06", "input.mlirbc", file_name="input.mlirbc")
    ir_case("ir-not-utf8", "a text file with bytes that are not UTF-8",
            b"func.func @f() {\n  \xff\xfe\n  return\n}\n", "input.mlir:2:3: error:")
    case("ir-deeply-nested-attribute", cat, "an attribute nesting %d arrays (written by the "
         "checker from a pattern)" % DEPTH, "vgcu-opt", ["{case}/input.mlir", "-o", "{out}"],
         "input.mlir:1:1028: brackets nest more than 1000 levels deep", {}, out_name="out.mlir",
         generate={"input.mlir": nested("module attributes {vgcu.x = ", "} {}\n")},
         timeout=30)
    # Inputs the IR fuzzer found (fuzz/regressions/ir/): they end without a newline, in the
    # middle of an op, where MLIR's lexer overran a buffer that was not NUL-terminated.
    regressions = os.path.join(HERE, "..", "..", "fuzz", "regressions", "ir")
    for number, expect in [(1, "input.mlir:5:8: error: custom op 'vgcu.all_gatheorld' is unknown"),
                           (2, "input.mlir:8:1: error: custom op 'J' is unknown")]:
        with open(os.path.join(regressions, "unterminated-buffer-%d.mlir" % number), "rb") as found:
            source = found.read()
        case("ir-fuzz-unterminated-buffer-%d" % number, cat, "fuzz/regressions/ir/"
             "unterminated-buffer-%d.mlir: mutated test IR ending mid-op, without a newline" % number,
             "vgcu-opt", ["{case}/input.mlir", "-o", "{out}"], expect, {"input.mlir": source},
             out_name="out.mlir")
    with open(os.path.join(regressions, "deep-parentheses.mlir"), "rb") as found:
        source = found.read()
    case("ir-fuzz-deep-parentheses", cat, "fuzz/regressions/ir/deep-parentheses.mlir: a function "
         "type nesting thousands of parentheses (MLIR's parser overflowed the stack)", "vgcu-opt",
         ["{case}/input.mlir", "-o", "{out}"],
         "input.mlir:3:1167: brackets nest more than 1000 levels deep", {"input.mlir": source},
         out_name="out.mlir")
    case("ir-nonexistent-file", cat, "the input file does not exist", "vgcu-opt",
         ["{case}/missing.mlir", "-o", "{out}"],
         "cannot open input file '{case}/missing.mlir': No such file or directory", {},
         out_name="out.mlir")
    ir_case("ir-unknown-pass", "an unknown pass on the command line is rejected before the input "
            "is read", "module {}\n", "--no-such-pass", extra=["--no-such-pass"])
    # Entry functions declared without a body, through the whole pipeline.
    ir_case("ir-forward-without-body", "@forward is declared without a body (the pipeline used to "
            "spin forever)",
            "module {\n"
            "  func.func private @forward(tensor<?xi64>, tensor<?xi64>) -> tensor<?x8xf32>\n"
            "  func.func @compute_logits(%h: tensor<?x8xf32>) -> tensor<?x16xf32> {\n"
            "    %w = vgcu.param \"lm_head.weight\" : tensor<16x8xf32>\n"
            "    %l = vgcu.linear %h, %w : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>\n"
            "    return %l : tensor<?x16xf32>\n"
            "  }\n"
            "}\n",
            "@forward must have a body of exactly one block", extra=["--vgcu-pipeline=tp=2"],
            timeout=60, expect_last=True)
    ir_case("ir-compute-logits-without-body", "@compute_logits is declared without a body (the "
            "pipeline used to crash)",
            "module {\n"
            "  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x8xf32> {\n"
            "    %t = vgcu.param \"model.embed_tokens.weight\" : tensor<16x8xf32>\n"
            "    %h = vgcu.embedding %ids, %t : tensor<?xi64>, tensor<16x8xf32> -> "
            "tensor<?x8xf32>\n"
            "    return %h : tensor<?x8xf32>\n"
            "  }\n"
            "  func.func private @compute_logits(tensor<?x8xf32>) -> tensor<?x16xf32>\n"
            "}\n",
            "@compute_logits must have a body of exactly one block",
            extra=["--vgcu-pipeline=tp=2"], timeout=60, expect_last=True)


# -------------------------------------------------------------------------------------------


def write_corpus(corpus):
    os.makedirs(corpus, exist_ok=True)
    for entry in sorted(os.listdir(corpus)):
        path = os.path.join(corpus, entry)
        if os.path.isdir(path) and os.path.exists(os.path.join(path, "case.json")):
            shutil.rmtree(path)
    unknown = set(BUGS) - set(CASES)
    if unknown:
        raise SystemExit("BUGS names unknown cases: %s" % ", ".join(sorted(unknown)))
    for name, (spec, files) in sorted(CASES.items()):
        if name in BUGS:
            spec["bug"] = BUGS[name]
        directory = os.path.join(corpus, name)
        os.makedirs(directory)
        for relative, blob in sorted(files.items()):
            path = os.path.join(directory, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if isinstance(blob, Symlink):
                os.symlink(blob.target, path)
                continue
            with open(path, "wb") as f:
                f.write(blob)
        with open(os.path.join(directory, "case.json"), "w") as f:
            json.dump(spec, f, indent=2)
            f.write("\n")


def main(argv):
    corpus = os.path.abspath(argv[1]) if len(argv) > 1 else HERE
    with tempfile.TemporaryDirectory(prefix="vgcu-corpus-") as tmp:
        safetensors_cases(tmp)
        sharded_cases(tmp)
        config_cases(tmp)
        tp_cases(tmp)
        weights_cases(tmp)
        quant_cases(tmp)
        torchscript_cases(tmp)
        output_cases(tmp)
        tokenizer_cases(tmp)
        artifact_cases()
        ir_cases()
    write_corpus(corpus)
    counts = {}
    for spec, _ in CASES.values():
        counts[spec["category"]] = counts.get(spec["category"], 0) + 1
    print("wrote %d cases to %s (%s)" % (len(CASES), corpus,
                                          ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
