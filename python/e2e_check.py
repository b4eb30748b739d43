"""End-to-end check of vgcu against the PyTorch reference on a tiny seeded checkpoint.

Makes a tiny model of one architecture, compiles it with vgcu-compile, runs it with vgcu-run and
compares with python/run_reference.py:
  f32:  last prompt position's logits within --atol of the reference, identical greedy tokens;
  f16:  the same against the f32 reference (CPU PyTorch cannot run f16 models), with logits within
        --f16-atol;
  bf16: at least --min-agree of the generated tokens equal the reference's bf16 greedy choice
        given the same prefix (teacher forcing: bf16 rounding makes near-ties flip differently in
        any two implementations, even the reference's own cached and uncached runs, and one flip
        must not count as every later token);
and, for every size in --tp (N for tensor parallelism, NxM for N-way tensor times M-way expert
parallelism), the parallel run equals the single-rank run within --tp-atol with identical tokens. Exits non-zero with a message on any mismatch.

--trace SIGNATURE compiles the artifacts from a Hugging Face-style trace of the reference model
(python/hf_style_trace.py: forward(input_ids), forward(input_ids, position_ids) or forward(input_ids,
attention_mask)) with `vgcu-compile --from-torchscript`, weights taken from the trace, instead of
from the model directory.

A model of your own: --plugin PATH.so loads your vgcu plugin (VGCU_PLUGINS for vgcu-compile) and
--reference-module PATH.py your PyTorch reference (VGCU_REF_MODULES for the python/ tools; see
examples/custom_model/reference.py), so --arch can name your architecture.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vgcu_ref.process import run, use_external_models  # noqa: E402


def vgcu_run(artifact, prompt, tokens):
    return json.loads(run(["vgcu-run", artifact, "--prompt-ids", prompt,
                           "--max-new-tokens", str(tokens), "--json"]))


def _rope_depends_on_call(model_dir):
    from vgcu_ref.checkpoint import read_config
    from vgcu_ref.models import resolve_config
    from vgcu_ref.rope import rope_depends_on_call

    return rope_depends_on_call(resolve_config(read_config(model_dir)))


def max_difference(a, b):
    if len(a) != len(b):
        sys.exit(f"logit rows differ in length: {len(a)} vs {len(b)}")
    return max(abs(x - y) for x, y in zip(a, b))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    parser.add_argument("--tp", default="",
                        help="parallel sizes to compare: tp, or tp x ep, e.g. 2,4,1x2,2x2")
    parser.add_argument("--prompt", default="5,17,42,7,99,3,200,11,12")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--tp-atol", type=float, default=1e-5)
    parser.add_argument("--f16-atol", type=float, default=0.1)
    parser.add_argument("--min-agree", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="a config field of the tiny model (make_tiny_model.py --set), e.g. "
                             "rope_scaling='{\"rope_type\": \"linear\", \"factor\": 2.0}'")
    parser.add_argument("--trace", choices=["input_ids", "position_ids", "attention_mask"],
                        help="compile from an HF-style trace with this signature")
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH.so",
                        help="a vgcu plugin providing --arch (repeatable)")
    parser.add_argument("--reference-module", action="append", default=[], metavar="PATH.py",
                        help="a PyTorch reference module registering --arch (repeatable)")
    args = parser.parse_args()
    use_external_models(args.plugin, args.reference_module)
    if args.trace and args.dtype == "f16":
        parser.error("--trace takes f32 or bf16 (CPU PyTorch cannot trace an f16 model)")

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, "model")
    run([sys.executable, os.path.join(HERE, "make_tiny_model.py"), args.arch, model,
         "--seed", str(args.seed), *[f"--set={item}" for item in args.set]])

    source = [model, "--dtype", args.dtype]
    if args.trace:
        traced = os.path.join(args.workdir, f"{args.trace}-{args.dtype}.pt")
        run([sys.executable, os.path.join(HERE, "hf_style_trace.py"), model, traced, "--inputs",
             args.trace, "--dtype", args.dtype])
        source = ["--from-torchscript", traced]

    def compile_and_run(tp, ep=1):
        name = f"tp{tp}" + (f"-ep{ep}" if ep > 1 else "")
        artifact = os.path.join(args.workdir, f"{name}-{args.dtype}.vgcu")
        run(["vgcu-compile", *source, "-o", artifact, "--tp", str(tp), "--ep", str(ep),
             "--force", "--log-level=warn"])
        return vgcu_run(artifact, args.prompt, args.tokens)

    ours = compile_and_run(1)
    reference_dtype = "f32" if args.dtype == "f16" else args.dtype
    reference_command = [sys.executable, os.path.join(HERE, "run_reference.py"), model,
                         "--prompt-ids", args.prompt, "--max-new-tokens", str(args.tokens),
                         "--dtype", reference_dtype, "--json"]
    if _rope_depends_on_call(model):
        # dynamic / longrope: compare with the reference's cached run (see run_reference.py)
        reference_command.append("--kv-cache")
    if args.dtype != "f32":
        reference_command += ["--teacher-forced", ",".join(map(str, ours["tokens"]))]
    reference = json.loads(run(reference_command))

    failures = []
    if args.dtype == "f32":
        difference = max_difference(ours["logits"], reference["logits"])
        print(f"{args.arch} f32: max |logit - reference| = {difference:.3g} (atol {args.atol})")
        if difference > args.atol:
            failures.append(f"logits differ from the reference by {difference:.3g}")
        if ours["tokens"] != reference["tokens"]:
            failures.append(f"tokens {ours['tokens']} != reference {reference['tokens']}")
    else:
        agree = sum(a == b for a, b in zip(ours["tokens"], reference["predictions"]))
        free = sum(a == b for a, b in zip(ours["tokens"], reference["tokens"]))
        print(f"{args.arch} {args.dtype}: {agree}/{args.tokens} greedy tokens agree with the "
              f"{reference_dtype} reference given the same prefix ({free}/{args.tokens} in "
              f"free-running generation)")
        if args.dtype == "f16":
            difference = max_difference(ours["logits"], reference["logits"])
            print(f"{args.arch} f16: max |logit - f32 reference| = {difference:.3g} "
                  f"(atol {args.f16_atol})")
            if difference > args.f16_atol:
                failures.append(f"f16 logits differ from the f32 reference by {difference:.3g}")
        if agree < args.min_agree:
            failures.append(f"only {agree} of {args.tokens} tokens agree: {ours['tokens']} vs "
                            f"{reference['predictions']}")

    for size in [t for t in args.tp.split(",") if t]:
        tp, _, ep = size.partition("x")
        tp, ep = int(tp), int(ep or 1)
        label = f"tp={tp}" + (f" ep={ep}" if ep > 1 else "")
        sharded = compile_and_run(tp, ep)
        difference = max_difference(sharded["logits"], ours["logits"])
        print(f"{args.arch} {label}: max |logit - tp1| = {difference:.3g} (atol {args.tp_atol})")
        if difference > args.tp_atol:
            failures.append(f"{label} logits differ from tp=1 by {difference:.3g}")
        if sharded["tokens"] != ours["tokens"]:
            failures.append(f"{label} tokens {sharded['tokens']} != tp=1 {ours['tokens']}")

    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
