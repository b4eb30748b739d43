"""llama.cpp as a baseline: fetches its prebuilt CPU libraries and the matching source (for
the headers and gguf-py) from npm, builds a small driver against them, and runs it.

The packages: `@node-llama-cpp/linux-x64` carries llama.cpp's CPU libraries (a variant per
x86-64 generation, the best one picked at run time); `node-llama-cpp` of the same version
carries the llama.cpp source they were built from as `llama/gitRelease.bundle`. Only
`npm pack` is used: Node is not needed to run anything.
"""

import json
import os
import shutil
import subprocess
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = "3.22.1"


class Unavailable(Exception):
    """The baseline cannot be set up here (no npm, no network, no compiler)."""


def _run(command, cwd=None, env=None):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"{' '.join(command)} failed: {result.stderr.strip()[-400:]}")
    return result.stdout


def setup(cache):
    """The driver and gguf-py under `cache` (made once): {"driver", "backends", "gguf_py"}."""
    paths = {"driver": os.path.join(cache, "llama-cpp-driver"),
             "backends": os.path.join(cache, "linux-x64", "package", "bins", "linux-x64"),
             "gguf_py": os.path.join(cache, "source", "gguf-py")}
    if all(os.path.exists(path) for path in paths.values()):
        return paths
    if not shutil.which("npm"):
        raise Unavailable("npm is not installed")
    os.makedirs(cache, exist_ok=True)
    for package, directory in [(f"@node-llama-cpp/linux-x64@{VERSION}", "linux-x64"),
                               (f"node-llama-cpp@{VERSION}", "node-llama-cpp")]:
        tarball = _run(["npm", "pack", "--silent", package], cwd=cache).strip().splitlines()[-1]
        target = os.path.join(cache, directory)
        shutil.rmtree(target, ignore_errors=True)
        with tarfile.open(os.path.join(cache, tarball)) as archive:
            archive.extractall(target)
        os.remove(os.path.join(cache, tarball))
    source = os.path.join(cache, "source")
    shutil.rmtree(source, ignore_errors=True)
    _run(["git", "clone", "--quiet",
          os.path.join(cache, "node-llama-cpp", "package", "llama", "gitRelease.bundle"), source])
    backends = paths["backends"]
    libraries = [os.path.join(backends, name)
                 for name in ("libllama.v0.5.0.so", "libggml.v0.5.0.so", "libggml-base.so")]
    _run(["g++", "-O2", "-std=c++17", "-I", os.path.join(source, "include"),
          "-I", os.path.join(source, "ggml", "include"), os.path.join(HERE, "driver.cpp"),
          "-o", paths["driver"], *libraries, f"-Wl,-rpath,{backends}"])
    return paths


def write_gguf(paths, model_dir, out, dtype, python):
    _run([python, os.path.join(HERE, "write_gguf.py"), model_dir, out, "--gguf-py",
          paths["gguf_py"], "--dtype", dtype])


def run(paths, gguf_file, prompt_tokens, new_tokens, threads, env=None):
    """{"prefill_tokens_per_second", "decode_tokens_per_second", "logits"} of one run."""
    return json.loads(_run([paths["driver"], gguf_file, str(prompt_tokens), str(new_tokens),
                            str(threads), paths["backends"]], env=env))
