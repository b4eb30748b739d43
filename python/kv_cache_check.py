"""End-to-end check of vgcu's quantized KV cache (vgcu-compile --kv-cache-dtype int8|fp8_e4m3).

A tiny seeded model of --arch (make_tiny_model.py) is compiled with the quantized cache for every
--tp; then:
  - its logits (a 10-token prompt, and a one-token prompt whose logits come from the decode path)
    must equal the PyTorch reference run with the same cache round trip (run_reference.py
    --kv-cache-dtype: keys and values, or MLA's latent and rotary key, through codes and a scale per
    vector) within --atol, with the same greedy tokens;
  - at least --min-agree of its greedy tokens must equal the float-cache model's greedy choice given
    the same prefix (teacher forcing);
  - requests of several lengths batched through the engine (vgcu-run --requests) must give the
    tokens each gives alone (the batched decode path reads the cache differently);
  - --summary-json's kv_cache_bytes_per_token must be below the float cache's.
Exits non-zero with a message on any mismatch.
"""

import argparse
import json
import os
import random
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vgcu_ref.process import run  # noqa: E402

PROMPT = "3,17,42,7,99,5,23,61,11,80"


def reference(model_dir, tokens, kv_cache_dtype="auto", teacher_forced=None, prompt=PROMPT):
    command = [sys.executable, os.path.join(HERE, "run_reference.py"), model_dir, "--prompt-ids",
               prompt, "--max-new-tokens", str(tokens), "--json", "--kv-cache-dtype", kv_cache_dtype]
    if teacher_forced is not None:
        command += ["--teacher-forced", ",".join(map(str, teacher_forced))]
    return json.loads(run(command))


def vgcu_run(artifact, tokens, prompt=PROMPT):
    return json.loads(run(["vgcu-run", artifact, "--prompt-ids", prompt, "--max-new-tokens",
                           str(tokens), "--json"]))


def compile_model(model_dir, artifact, tp, kv_cache_dtype):
    """Writes the artifact; returns --summary-json's kv_cache_bytes_per_token."""
    shutil.rmtree(artifact, ignore_errors=True)
    summary = json.loads(run(["vgcu-compile", model_dir, "-o", artifact, "--tp", str(tp),
                              "--dtype", "f32", "--kv-cache-dtype", kv_cache_dtype,
                              "--log-level", "warning", "--summary-json"]))
    return summary["kv_cache_bytes_per_token"]


def check_batched(artifact, vocab, workdir, failures):
    generator = random.Random(7)
    requests = [{"id": f"r{i}", "prompt_ids": [generator.randrange(vocab) for _ in range(length)],
                 "max_tokens": 6, "temperature": 0} for i, length in enumerate([10, 1, 70, 33])]
    path = os.path.join(workdir, "requests.jsonl")
    with open(path, "w") as file:
        file.writelines(json.dumps(request) + "\n" for request in requests)
    batched = {}
    for line in run(["vgcu-run", artifact, "--requests", path, "--log-level=warn"]).splitlines():
        result = json.loads(line)
        batched[result["id"]] = result["tokens"]
    for request in requests:
        alone = vgcu_run(artifact, request["max_tokens"], ",".join(map(str, request["prompt_ids"])))
        if batched.get(request["id"]) != alone["tokens"]:
            failures.append(f"{artifact}: request {request['id']} batched gives "
                            f"{batched.get(request['id'])}, alone {alone['tokens']}")
    return len(requests)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="llama")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--kv-cache-dtype", required=True, choices=["int8", "fp8_e4m3"])
    parser.add_argument("--tp", default="1,2", help="comma separated tensor-parallel sizes")
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--min-agree", type=float, default=0.9)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    args = parser.parse_args()

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, f"{args.arch}-model")
    shutil.rmtree(model, ignore_errors=True)
    run([sys.executable, os.path.join(HERE, "make_tiny_model.py"), args.arch, model,
         *[f"--set={item}" for item in args.set]])
    dtype = args.kv_cache_dtype
    expected = reference(model, args.tokens, dtype)
    expected_one = reference(model, 1, dtype, prompt="42")
    failures = []
    label = f"{args.arch} kv {dtype}"

    for tp in [int(size) for size in args.tp.split(",") if size]:
        artifact = os.path.join(args.workdir, f"{args.arch}-{dtype}-tp{tp}.vgcu")
        quantized_bytes = compile_model(model, artifact, tp, dtype)
        ours = vgcu_run(artifact, args.tokens)
        difference = max(abs(a - b) for a, b in zip(ours["logits"], expected["logits"]))
        print(f"{label} tp={tp}: max |logit - reference with the cache round trip| = {difference:.3g}")
        if difference > args.atol:
            failures.append(f"tp={tp}: logits differ from the reference by {difference:.3g}")
        if ours["tokens"] != expected["tokens"]:
            failures.append(f"tp={tp}: tokens {ours['tokens']} != reference {expected['tokens']}")
        one = vgcu_run(artifact, 1, prompt="42")
        difference = max(abs(a - b) for a, b in zip(one["logits"], expected_one["logits"]))
        print(f"{label} tp={tp}: one-token prompt: max |logit - reference| = {difference:.3g}")
        if difference > args.atol:
            failures.append(f"tp={tp}: one-token logits differ from the reference by {difference:.3g}")

        judged = reference(model, args.tokens, teacher_forced=ours["tokens"])
        agree = sum(a == b for a, b in zip(ours["tokens"], judged["predictions"]))
        print(f"{label} tp={tp}: {agree}/{len(ours['tokens'])} greedy tokens agree with the "
              f"float-cache model")
        if agree < args.min_agree * len(ours["tokens"]):
            failures.append(f"tp={tp}: only {agree}/{len(ours['tokens'])} tokens agree with the "
                            "float-cache model")

        with open(os.path.join(artifact, "manifest.json")) as file:
            manifest = json.load(file)
        if manifest["kv_cache"].get("dtype") != dtype:
            failures.append(f"tp={tp}: the manifest's kv_cache dtype is "
                            f"{manifest['kv_cache'].get('dtype')}, not {dtype}")
        count = check_batched(artifact, manifest["vocab_size"], args.workdir, failures)
        print(f"{label} tp={tp}: {count} requests batched give their tokens alone")

        float_bytes = compile_model(model, os.path.join(args.workdir, f"{args.arch}-auto-tp{tp}.vgcu"),
                                    tp, "auto")
        print(f"{label} tp={tp}: KV cache bytes per token {quantized_bytes} (float: {float_bytes})")
        if quantized_bytes >= float_bytes:
            failures.append(f"tp={tp}: the quantized cache ({quantized_bytes} bytes per token) is not "
                            f"smaller than the float one ({float_bytes})")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
