"""End-to-end check of vgcu's quantized weights against the PyTorch reference on tiny checkpoints.

Two kinds of run:

  --format gptq|awq|fp8 (plus make_quantized_model.py's options): a tiny seeded model of --arch is
      written in that checkpoint format (python/make_quantized_model.py, laid out as AutoGPTQ,
      AutoAWQ and DeepSeek-V3 lay it out) together with its dequantized f32 twin; for every --tp,
      vgcu's artifact of the quantized checkpoint must give the twin's logits (PyTorch, f32) within
      --atol and the same greedy tokens.
  --quantize w8a16|fp8: the float model compiled with `vgcu-compile --quantize`; its logits must
      equal the reference run on the same quantization done in Python (bit-identical codes and
      scales give logits within --atol), and at least --min-agree of its greedy tokens must equal
      the float model's greedy choice given the same prefix (teacher forcing).

Each run also compares the weight bytes per rank (`vgcu-compile --summary-json`) with the float
artifact's: quantized must be smaller.
Exits non-zero with a message on any mismatch.
"""

import argparse
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vgcu_ref.process import run  # noqa: E402

PROMPT = "3,17,42,7,99,5,23,61,11,80"


def python(*args):
    return run([sys.executable, *args])


def vgcu_run(artifact, tokens, prompt=PROMPT):
    return json.loads(run(["vgcu-run", artifact, "--prompt-ids", prompt, "--max-new-tokens",
                           str(tokens), "--json"]))


def reference(model_dir, tokens, teacher_forced=None, prompt=PROMPT):
    command = [os.path.join(HERE, "run_reference.py"), model_dir, "--prompt-ids", prompt,
               "--max-new-tokens", str(tokens), "--json"]
    if teacher_forced is not None:
        command += ["--teacher-forced", ",".join(map(str, teacher_forced))]
    return json.loads(python(*command))


def compile_model(model_dir, artifact, size, quantize=None):
    """Compiles for `size` ("N" tensor-parallel ranks, or "NxM": N-way tensor times M-way expert
    parallelism); returns the weight bytes of each rank (--summary-json's
    weight_bytes_per_rank)."""
    tp, _, ep = size.partition("x")
    shutil.rmtree(artifact, ignore_errors=True)
    command = ["vgcu-compile", model_dir, "-o", artifact, "--tp", tp, "--ep", ep or "1",
               "--dtype", "f32", "--log-level", "warning", "--summary-json"]
    if quantize:
        command += ["--quantize", quantize]
    per_rank = json.loads(run(command))["weight_bytes_per_rank"]
    ranks = int(tp) * int(ep or 1)
    if len(per_rank) != ranks:
        sys.exit(f"{artifact}: weight_bytes_per_rank lists {len(per_rank)} ranks, not {ranks}")
    return per_rank


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="llama")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--tp", default="1,2",
                        help="comma separated parallel sizes: N (tensor) or NxM (tensor x expert)")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--min-agree", type=float, default=0.9,
                        help="--quantize: share of greedy tokens equal to the float model's")
    parser.add_argument("--quantize", choices=["w8a16", "fp8"])
    parser.add_argument("--format", choices=["gptq", "awq", "fp8"])
    args, quantizer_options = parser.parse_known_args()
    if bool(args.quantize) == bool(args.format):
        parser.error("give exactly one of --format and --quantize")

    os.makedirs(args.workdir, exist_ok=True)
    base = os.path.join(args.workdir, f"{args.arch}-float")
    if not os.path.isdir(base):
        python(os.path.join(HERE, "make_tiny_model.py"), args.arch, base)
    label = args.quantize or " ".join([args.format, *quantizer_options])
    failures = []

    if args.format:
        model = os.path.join(args.workdir, f"{args.arch}-{args.format}")
        twin = model + "-dequantized"
        for directory in (model, twin):
            shutil.rmtree(directory, ignore_errors=True)
        python(os.path.join(HERE, "make_quantized_model.py"), base, model, "--format", args.format,
               *quantizer_options, "--dequantized", twin)
        expected = reference(twin, args.tokens)
    else:
        model = base
        # The same quantization in Python: the f32 model whose weights are the dequantized codes.
        twin = os.path.join(args.workdir, f"{args.arch}-{args.quantize}-dequantized")
        shutil.rmtree(twin, ignore_errors=True)
        options = ["--fp8-scheme", "channel"] if args.quantize == "fp8" else []
        python(os.path.join(HERE, "make_quantized_model.py"), base, twin, "--format", args.quantize,
               *options)
        expected = reference(twin, args.tokens)
    # A one-token prompt: its logits come from the kernels' one-token (decode) path.
    expected_one = reference(twin, 1, prompt="42")

    for tp in [t for t in args.tp.split(",") if t]:
        artifact = os.path.join(args.workdir, f"{args.arch}-{args.quantize or args.format}-tp{tp}.vgcu")
        quantized = max(compile_model(model, artifact, tp, args.quantize))
        ours = vgcu_run(artifact, args.tokens)
        difference = max(abs(a - b) for a, b in zip(ours["logits"], expected["logits"]))
        print(f"{args.arch} {label} tp={tp}: max |logit - dequantized reference| = {difference:.3g}")
        if difference > args.atol:
            failures.append(f"tp={tp}: logits differ from the dequantized reference by {difference:.3g}")
        one = vgcu_run(artifact, 1, prompt="42")
        difference = max(abs(a - b) for a, b in zip(one["logits"], expected_one["logits"]))
        print(f"{args.arch} {label} tp={tp}: one-token prompt: max |logit - dequantized reference| = "
              f"{difference:.3g}")
        if difference > args.atol:
            failures.append(f"tp={tp}: one-token logits differ from the dequantized reference by "
                            f"{difference:.3g}")
        if ours["tokens"] != expected["tokens"]:
            failures.append(f"tp={tp}: tokens {ours['tokens']} != reference {expected['tokens']}")
        if args.quantize:
            judged = reference(base, args.tokens, teacher_forced=ours["tokens"])
            agree = sum(a == b for a, b in zip(ours["tokens"], judged["predictions"]))
            print(f"{args.arch} {label} tp={tp}: {agree}/{len(ours['tokens'])} greedy tokens agree "
                  f"with the float model")
            if agree < args.min_agree * len(ours["tokens"]):
                failures.append(f"tp={tp}: only {agree}/{len(ours['tokens'])} tokens agree with the "
                                "float model")
        plain = max(compile_model(base, os.path.join(args.workdir, f"{args.arch}-float-tp{tp}.vgcu"), tp))
        print(f"{args.arch} {label} tp={tp}: weights per rank {quantized} bytes (f32: {plain})")
        if quantized >= plain:
            failures.append(f"tp={tp}: the quantized weights ({quantized} bytes) are not smaller than "
                            f"the float ones ({plain})")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
