"""Checks that a traced model, imported and fused by vgcu, has the builder's ops in every layer.

Makes a tiny model of an architecture, traces it with python/trace_model.py (optionally in an
alternative spelling, --variant), and compares `vgcu-compile --from-torchscript X.pt --summary-json`
with `vgcu-compile MODEL_DIR --summary-json`: both report "ops_per_layer", the compute ops each
decoder layer runs after the fusion pipeline, which must be identical. With --kernels-tp N it
also compiles both to gcu kernels for N ranks and compares the gcu ops of @prefill and @decode in
order (parameters, allocations and constants left out: their order is the builders').

--inputs traces with python/hf_style_trace.py instead, in that Hugging Face-style signature
(forward(input_ids): positions made in the graph). --plugin and --reference-module bring a model of
your own, as for python/e2e_check.py.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vgcu_ref.process import run, use_external_models  # noqa: E402

GCU_OP = re.compile(r"^\s+(?:%[^=]*=\s+)?(gcu\.[a-z_]+)", re.MULTILINE)
UNORDERED = {"gcu.weight", "gcu.alloc", "gcu.dim", "gcu.constant"}


def kernel_ops(command):
    """The gcu ops `command` prints, in order, without the UNORDERED ones."""
    return [op for op in GCU_OP.findall(run(command)) if op not in UNORDERED]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--variant", default="")
    parser.add_argument("--kernels-tp", type=int, default=0,
                        help="also compare the gcu kernels of both at this tensor-parallel size")
    parser.add_argument("--inputs", choices=["input_ids", "position_ids", "attention_mask"],
                        help="trace Hugging Face-style with this signature (hf_style_trace.py)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="a config field of the tiny model (make_tiny_model.py --set)")
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH.so")
    parser.add_argument("--reference-module", action="append", default=[], metavar="PATH.py")
    args = parser.parse_args()
    use_external_models(args.plugin, args.reference_module)

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, "model")
    traced = os.path.join(args.workdir, "model.pt")
    run([sys.executable, os.path.join(HERE, "make_tiny_model.py"), args.arch, model,
         *[f"--set={item}" for item in args.set]])
    trace = [sys.executable, os.path.join(HERE, "trace_model.py"), model, traced]
    if args.inputs:
        trace = [sys.executable, os.path.join(HERE, "hf_style_trace.py"), model, traced,
                 "--inputs", args.inputs]
    if args.variant:
        trace += ["--variant", args.variant]
    run(trace)
    built = json.loads(run(["vgcu-compile", model, "--summary-json", "--log-level=warn"]))
    imported = json.loads(run(["vgcu-compile", "--from-torchscript", traced, "--summary-json",
                               "--log-level=warn"]))
    name = args.arch + (f" ({args.variant})" if args.variant else "") + \
        (f" (forward({args.inputs}))" if args.inputs else "")
    if built["parameters"] != imported["parameters"]:
        print(f"note: {name}: builder has {built['parameters']} parameters, trace "
              f"{imported['parameters']} (tied weights are one parameter in both)")
    if built["ops_per_layer"] != imported["ops_per_layer"]:
        for index, (a, b) in enumerate(zip(built["ops_per_layer"], imported["ops_per_layer"])):
            if a != b:
                print(f"layer {index}: builder {a}\n         traced  {b}")
        sys.exit(f"FAILED: {name}: traced graph does not fuse to the builder's layers")
    layer = ", ".join(op.replace("vgcu.", "") for op in built["ops_per_layer"][-1])
    print(f"{name}: {len(built['ops_per_layer'])} layers match: {layer}")
    if args.kernels_tp:
        emit = ["--emit=kernels", "--tp", str(args.kernels_tp), "--log-level=warn"]
        built_kernels = kernel_ops(["vgcu-compile", model, *emit])
        traced_kernels = kernel_ops(["vgcu-compile", "--from-torchscript", traced, *emit])
        if built_kernels != traced_kernels:
            for index, (a, b) in enumerate(zip(built_kernels, traced_kernels)):
                if a != b:
                    print(f"first difference at gcu op {index}: builder {a}, traced {b}")
                    break
            sys.exit(f"FAILED: {name}: traced kernels at tp = {args.kernels_tp} differ from the "
                     f"builder's ({len(traced_kernels)} ops against {len(built_kernels)})")
        print(f"{name}: the same {len(built_kernels)} gcu ops at tp = {args.kernels_tp}")


if __name__ == "__main__":
    main()
