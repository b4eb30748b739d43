"""Layer-by-layer diff of a vgcu artifact against the PyTorch model: where a port first goes wrong.

Usage: vgcu_diff.py MODEL_DIR ARTIFACT --prompt-ids 5,17,42 [--dtype f32|bf16|f16]
                    [--model-class MODULE:CLASS] [--tolerance T] [--json] [--dump-layers 0,1]
                    [--vgcu-run PATH] [--keep-dump DIR]

Runs the prompt through the PyTorch model with forward hooks on every module the artifact dumps
(`vgcu-run --dump-activations`: each decoder layer's output and the attention, MLP and norms inside
it, named by their Hugging Face module paths), and prints per module the largest absolute error,
the error relative to the reference's largest magnitude, and the cosine similarity. The first
decoder layer whose relative error exceeds the tolerance is the first divergence; inside it, the
first module (in the reference's order) beyond the tolerance is named, with the kernels the
artifact runs for that layer.

The reference is vgcu_ref's model for the config's architecture (VGCU_REF_MODULES adds a plugin's
reference), or with --model-class any nn.Module whose submodules carry the Hugging Face names:
MODULE is an import path or a .py file; the class is built as CLASS.from_pretrained(MODEL_DIR) when
it has that method, else CLASS(config) with the checkpoint loaded into it. vgcu_ref models are called
as model(input_ids, positions) on a flat sequence, others as model(input_ids=ids[None]) like HF's.

--json prints one object: {"layers": [{"module", "max_abs_error", "relative_error", "cosine"}],
"modules": [... every compared module ...], "first_divergence": "model.layers.1" or null,
"first_divergent_module": "model.layers.1.mlp" or null, "kernels": [the kernels of that layer],
"module_kernels": [those of that module]}.
Exit status: 0 when nothing diverges, 1 when something does, 2 on errors.
"""

import argparse
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

from vgcu_ref import safetensors_io  # noqa: E402
from run_reference import _parse_ids  # noqa: E402
from vgcu_ref.checkpoint import load_model, parse_dtype, read_config  # noqa: E402

# Relative error beyond which a module diverges: f32 ports agree to ~1e-6, 16-bit ones to ~1e-2.
DEFAULT_TOLERANCE = {"f32": 1e-3, "bf16": 5e-2, "f16": 5e-2}
LAYER_PATH = re.compile(r"^(.*\.)?(layers|h|blocks)\.(\d+)$")


class DiffError(Exception):
    pass


def _find_vgcu_run(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(os.environ["BUILD_DIR"], "bin", "vgcu-run")] if os.environ.get("BUILD_DIR") else []
    candidates += [shutil.which("vgcu-run"), os.path.join(here, "..", "build", "bin", "vgcu-run")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise DiffError("cannot find vgcu-run: give --vgcu-run PATH, put it on PATH or set BUILD_DIR")


def _import_class(spec):
    if ":" not in spec:
        raise DiffError(f"--model-class {spec!r}: expected MODULE:CLASS")
    module_name, class_name = spec.rsplit(":", 1)
    try:
        if module_name.endswith(".py"):
            loader = importlib.util.spec_from_file_location("vgcu_diff_user_model", module_name)
            if loader is None or not os.path.isfile(module_name):
                raise DiffError(f"--model-class: {module_name} is not a Python file")
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except ImportError as e:
        raise DiffError(f"--model-class: cannot import {module_name}: {e}") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, torch.nn.Module):
        raise DiffError(f"--model-class: {module_name} has no nn.Module class {class_name}")
    return cls


def build_reference(model_dir, dtype, model_class):
    """The reference model and how to call it on a prompt."""
    if model_class is None:
        model = load_model(model_dir, dtype)
        return model, lambda ids: model(ids, torch.arange(len(ids)))
    cls = _import_class(model_class)
    if hasattr(cls, "from_pretrained"):
        model = cls.from_pretrained(model_dir)
    else:
        model = cls(read_config(model_dir))
        tensors = safetensors_io.load_checkpoint(model_dir)
        missing, unexpected = model.load_state_dict(tensors, strict=False)
        if missing:
            raise DiffError(f"{model_class}: the checkpoint lacks {len(missing)} parameters, e.g. {missing[:5]}")
    model = model.to(dtype).eval()
    if hasattr(model, "forward_with_cache"):  # a vgcu_ref CausalLM: flat sequences
        return model, lambda ids: model(ids, torch.arange(len(ids)))
    return model, lambda ids: model(input_ids=ids[None])


def capture(model, run, ids, names):
    """Each named module's output (as [tokens, features] float32), and the order they finished in."""
    outputs, order, handles = {}, [], []
    modules = dict(model.named_modules())
    for name in names:
        module = modules.get(name)
        if module is None:
            continue

        def hook(_module, _inputs, output, name=name):
            if isinstance(output, (tuple, list)):
                output = output[0]
            if isinstance(output, torch.Tensor):
                outputs[name] = output.detach().float().reshape(-1, output.shape[-1])
                if name not in order:
                    order.append(name)
        handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            run(torch.tensor(ids, dtype=torch.long))
    finally:
        for handle in handles:
            handle.remove()
    return outputs, order


def compare(reference, ours):
    ref, got = reference.double(), ours.double()
    max_abs = (ref - got).abs().max().item()
    scale = max(ref.abs().max().item(), 1e-30)
    cosine = torch.nn.functional.cosine_similarity(ref.flatten(), got.flatten(), dim=0).item()
    return {"max_abs_error": max_abs, "relative_error": max_abs / scale, "cosine": cosine}


def run_artifact(vgcu_run, artifact, ids, dump_dir, dump_layers):
    command = [vgcu_run, artifact, "--prompt-ids", ",".join(map(str, ids)), "--max-new-tokens", "1",
               "--dump-activations", dump_dir, "--log-level=warn"]
    if dump_layers:
        command += ["--dump-layers", dump_layers]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise DiffError(f"vgcu-run failed ({result.returncode}): {result.stderr.strip()}")
    with open(os.path.join(dump_dir, "kernels.json")) as f:
        index = json.load(f)
    return safetensors_io.load_file(os.path.join(dump_dir, "activations.safetensors")), index


def diff(args):
    dtype_name = args.dtype or read_config(args.model_dir).get("torch_dtype", "float32")
    dtype_name = {"float32": "f32", "bfloat16": "bf16", "float16": "f16"}.get(dtype_name, dtype_name)
    tolerance = args.tolerance if args.tolerance is not None else DEFAULT_TOLERANCE.get(dtype_name, 1e-3)
    vgcu_run = _find_vgcu_run(args.vgcu_run)
    scratch = None if args.keep_dump else tempfile.mkdtemp(prefix="vgcu-diff-")
    dump_dir = args.keep_dump or os.path.join(scratch, "dump")
    try:
        dumped, index = run_artifact(vgcu_run, args.artifact, args.prompt_ids, dump_dir, args.dump_layers)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    model, run = build_reference(args.model_dir, parse_dtype(dtype_name), args.model_class)
    reference, order = capture(model, run, args.prompt_ids, index["modules"])
    if not reference:
        raise DiffError("the reference model has none of the artifact's module paths "
                        f"(e.g. {index['modules'][:3]}); is it the right model class?")

    modules = []
    for name in order:
        ours = dumped.get(name)
        if ours is None:
            continue
        ref = reference[name]
        if ref.shape != ours.shape:
            modules.append({"module": name, "error": f"shape {tuple(ours.shape)} != reference {tuple(ref.shape)}",
                            "max_abs_error": None, "relative_error": None, "cosine": None})
        else:
            modules.append({"module": name, **compare(ref, ours)})
    for entry in modules:
        entry["diverged"] = entry["relative_error"] is None or not entry["relative_error"] <= tolerance
    layers = [m for m in modules if LAYER_PATH.match(m["module"])]
    first = next((m["module"] for m in layers if m["diverged"]), None)
    def kernels_in(path):
        return [f'{launch["kernel"]} {launch["module"]}' for launch in index["launches"]
                if launch["module"] == path or launch["module"].startswith(path + ".")]

    first_module, kernels, module_kernels = None, [], []
    if first is not None:
        inside = [m for m in modules if m["module"].startswith(first + ".") and m["diverged"]]
        first_module = inside[0]["module"] if inside else first
        kernels, module_kernels = kernels_in(first), kernels_in(first_module)
    return {"tolerance": tolerance, "layers": layers, "modules": modules, "first_divergence": first,
            "first_divergent_module": first_module, "kernels": kernels, "module_kernels": module_kernels,
            "unmatched": sorted(set(index["modules"]) - set(reference))}


def print_table(result):
    print(f"{'module':<48} {'max abs err':>12} {'rel err':>10} {'cosine':>10}")
    for m in result["modules"]:
        mark = "  <-- first divergence" if m["module"] == result["first_divergent_module"] else (
            "  !" if m["diverged"] else "")
        if m["relative_error"] is None:
            print(f"{m['module']:<48} {m['error']}{mark}")
            continue
        print(f"{m['module']:<48} {m['max_abs_error']:>12.3e} {m['relative_error']:>10.2e} "
              f"{m['cosine']:>10.6f}{mark}")
    if result["first_divergence"] is None:
        print(f"no layer diverges beyond a relative error of {result['tolerance']:g}")
    else:
        print(f"first divergence: {result['first_divergence']}, in {result['first_divergent_module']}")
        print(f"  kernels of {result['first_divergent_module']}: {', '.join(result['module_kernels'])}")
        print(f"  kernels of {result['first_divergence']}: {', '.join(result['kernels'])}")
    if result["unmatched"]:
        print(f"not in the reference model: {', '.join(result['unmatched'])}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("artifact")
    parser.add_argument("--prompt-ids", type=_parse_ids, required=True)
    parser.add_argument("--dtype", choices=["f32", "bf16", "f16"], default=None,
                        help="reference compute dtype (default: the config's torch_dtype)")
    parser.add_argument("--model-class", default=None, help="MODULE:CLASS of the reference nn.Module")
    parser.add_argument("--tolerance", type=float, default=None,
                        help="relative error beyond which a module diverges (default 1e-3 at f32, 5e-2 at 16 bits)")
    parser.add_argument("--dump-layers", default=None, help="only these decoder layers, e.g. 0,1")
    parser.add_argument("--vgcu-run", default=None, help="the vgcu-run binary")
    parser.add_argument("--keep-dump", default=None, help="keep the artifact's dump in this directory")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = diff(args)
    except (DiffError, OSError, ValueError, RuntimeError, KeyError) as e:
        print(f"vgcu_diff: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
    return 1 if result["first_divergence"] is not None else 0


if __name__ == "__main__":
    sys.exit(main())
