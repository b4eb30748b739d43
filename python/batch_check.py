"""Batched generation equals unbatched: vgcu-run --requests against one request at a time.

Makes a tiny model of one architecture (make_tiny_model.py), compiles it, and writes requests
with prompts of many lengths (one token, either side of the 64-token KV block, near the model's
last position), greedy ones and seeded sampling ones. Then checks, for each batched run:
  - every greedy request's tokens equal `vgcu-run --prompt-ids` on its prompt alone (the path
    e2e_check.py compares with the PyTorch reference);
  - every generated token's logits are within --atol of those of the same request run alone
    (the engine with --max-num-seqs 1), and seeded sampling gives the same tokens. The logits
    are not bit-identical: a GEMM sums in an order that depends on the rows of the batch, a few
    ulps of the largest logit (about 1e-5 on the tiny models' logits of 20 to 30);
The batched runs: all requests at once; chunked prefill (--max-num-batched-tokens 24) in a KV
cache too small for all requests at once, which must preempt (read from --totals-json; except
for dynamic NTK and LongRoPE, which run one sequence per step); the
requests in reverse order arriving as a Poisson process; and, for each --tp size, the small
cache again. With --stops, also the stop conditions: an end-of-sequence id from
generation_config.json (recorded in the manifest), `ignore_eos`, and `stop_token_ids`. With
--batch-invariant every run takes vgcu-run's --batch-invariant (use --atol 0: the logits must
be bit-identical), and each tensor-parallel size is compared with its own requests run alone
(ranks sum their partial products, which regroups the sums of tp = 1). Exits non-zero with a
message on any mismatch.
"""

import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from vgcu_ref.process import run  # noqa: E402
from e2e_check import _rope_depends_on_call  # noqa: E402


def make_requests(vocab, max_positions, seed):
    generator = random.Random(seed)
    limit = max_positions or 256
    lengths = [1, 5, 63, 64, 65, 9, 30, limit - 20]
    requests = []
    for index, length in enumerate(lengths):
        length = max(1, min(length, limit - 8))
        new_tokens = min(4 + 3 * index % 13, limit - length + 1)
        request = {"id": f"r{index}", "prompt_ids": [generator.randrange(vocab) for _ in range(length)],
                   "max_tokens": new_tokens, "temperature": 0, "return_logits": True,
                   # vgcu-run --prompt-ids, which the greedy tokens are checked against, does
                   # not stop at end of sequence
                   "ignore_eos": True}
        if index in (2, 5):
            request.update(temperature=0.9, top_k=40, top_p=0.9, seed=1000 + index)
        requests.append(request)
    return requests


def write_requests(path, requests):
    with open(path, "w") as file:
        for request in requests:
            file.write(json.dumps(request) + "\n")


RUN_OPTIONS = []


def run_requests(artifact, path, *options):
    totals = path + ".totals.json"
    output = run(["vgcu-run", artifact, "--requests", path, "--totals-json", totals,
                  "--log-level=warn", *RUN_OPTIONS, *options])
    results = {}
    for line in output.splitlines():
        result = json.loads(line)
        results[result["id"]] = result
    with open(totals) as file:
        return results, json.load(file)


def compare(label, batched, alone, singles, atol, failures):
    worst = 0.0
    for request_id, expected in alone.items():
        got = batched.get(request_id)
        if got is None:
            failures.append(f"{label}: request {request_id} has no output")
            continue
        if got["tokens"] != expected["tokens"]:
            failures.append(f"{label}: request {request_id} tokens {got['tokens']} != alone "
                            f"{expected['tokens']}")
            continue
        if request_id in singles and got["tokens"] != singles[request_id]:
            failures.append(f"{label}: request {request_id} tokens {got['tokens']} != "
                            f"vgcu-run --prompt-ids {singles[request_id]}")
        for row, reference in zip(got["logits"], expected["logits"]):
            worst = max(worst, max(abs(a - b) for a, b in zip(row, reference)))
    print(f"{label}: tokens identical, max |logit - alone| = {worst:.3g} (atol {atol})")
    if worst > atol:
        failures.append(f"{label}: logits differ from the requests run alone by {worst:.3g}")


def check_stops(args, model, artifact, requests, singles, failures):
    """A request stops at the eos id of generation_config.json unless it ignores eos, and at
    its stop_token_ids; the finish reason says which."""
    request = next(r for r in requests if r["id"] in singles and len(singles[r["id"]]) >= 4)
    tokens = singles[request["id"]]
    base = {"prompt_ids": request["prompt_ids"], "max_tokens": len(tokens), "temperature": 0}
    eos = tokens[2]
    with open(os.path.join(model, "generation_config.json"), "w") as file:
        json.dump({"eos_token_id": [eos]}, file)
    eos_artifact = os.path.join(args.workdir, "eos.vgcu")
    run(["vgcu-compile", model, "-o", eos_artifact, "--force", "--log-level=warn"])
    os.remove(os.path.join(model, "generation_config.json"))
    with open(os.path.join(eos_artifact, "manifest.json")) as file:
        recorded = json.load(file).get("eos_token_ids", [])
    if eos not in recorded:
        failures.append(f"the manifest's eos_token_ids {recorded} lack generation_config's {eos}")
    path = os.path.join(args.workdir, "stops.jsonl")
    write_requests(path, [dict(base, id="eos"), dict(base, id="ignore", ignore_eos=True)])
    at_eos, _ = run_requests(eos_artifact, path)
    stop = tokens[1]
    write_requests(path, [dict(base, id="stop", stop_token_ids=[stop])])
    at_stop, _ = run_requests(artifact, path)
    expected = {"eos": (tokens[:tokens.index(eos) + 1], "stop"),
                "ignore": (tokens, "length"),
                "stop": (tokens[:tokens.index(stop) + 1], "stop")}
    got = {**at_eos, **at_stop}
    for key, (want_tokens, want_reason) in expected.items():
        if (got[key]["tokens"], got[key]["finish_reason"]) != (want_tokens, want_reason):
            failures.append(f"stop check '{key}': {got[key]['tokens']} ({got[key]['finish_reason']}) "
                            f"!= {want_tokens} ({want_reason})")
    print(f"{args.arch} stops: eos {eos} from generation_config.json after "
          f"{len(got['eos']['tokens'])} tokens ({got['eos']['finish_reason']}), ignore_eos "
          f"{len(got['ignore']['tokens'])} ({got['ignore']['finish_reason']}), stop_token_ids "
          f"after {len(got['stop']['tokens'])} ({got['stop']['finish_reason']})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--tp", default="", help="comma-separated tensor-parallel sizes")
    parser.add_argument("--atol", type=float, default=2e-5)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--stops", action="store_true", help="check the stop conditions too")
    parser.add_argument("--batch-invariant", action="store_true",
                        help="run vgcu-run with --batch-invariant")
    args = parser.parse_args()
    if args.batch_invariant:
        RUN_OPTIONS.append("--batch-invariant")

    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, "model")
    run([sys.executable, os.path.join(HERE, "make_tiny_model.py"), args.arch, model,
         *[f"--set={item}" for item in args.set]])

    def compile_model(tp):
        artifact = os.path.join(args.workdir, f"tp{tp}.vgcu")
        run(["vgcu-compile", model, "-o", artifact, "--tp", str(tp), "--force",
             "--log-level=warn"])
        return artifact

    artifact = compile_model(1)
    with open(os.path.join(artifact, "manifest.json")) as file:
        manifest = json.load(file)
    requests = make_requests(manifest["vocab_size"], manifest.get("max_position_embeddings", 0), 0)
    path = os.path.join(args.workdir, "requests.jsonl")
    write_requests(path, requests)
    reversed_path = os.path.join(args.workdir, "reversed.jsonl")
    write_requests(reversed_path, list(reversed(requests)))

    singles = {}
    for request in requests:
        if request["temperature"] == 0:
            output = run(["vgcu-run", artifact, "--prompt-ids",
                          ",".join(map(str, request["prompt_ids"])), "--max-new-tokens",
                          str(request["max_tokens"]), "--json", *RUN_OPTIONS])
            singles[request["id"]] = json.loads(output)["tokens"]
    def run_alone(artifact_path):
        return run_requests(artifact_path, path, "--max-num-seqs", "1",
                            "--max-num-batched-tokens", "4096")[0]

    alone = run_alone(artifact)

    # Dynamic NTK and LongRoPE rotate by the longest position of a call: the engine runs them
    # one sequence at a time, which never needs to preempt.
    serial = _rope_depends_on_call(model)
    failures = []
    small_cache = ["--max-num-batched-tokens", "24", "--kv-cache-blocks", "4"]
    runs = [("all at once", artifact, path, [], alone),
            ("chunked prefill, small cache", artifact, path, small_cache, alone),
            ("reversed, Poisson arrivals", artifact, reversed_path,
             ["--arrival-rate", "200", "--arrival-seed", "3"], alone)]
    for tp in [int(size) for size in args.tp.split(",") if size]:
        tp_artifact = compile_model(tp)
        runs.append((f"tp={tp}, small cache", tp_artifact, path, small_cache,
                     run_alone(tp_artifact) if args.batch_invariant else alone))
    for label, artifact_path, requests_path, options, expected in runs:
        batched, totals = run_requests(artifact_path, requests_path, *options)
        if "small cache" in label:
            label += f" ({totals['preemptions']} preemptions)"
            if totals["preemptions"] == 0 and not serial:
                failures.append(f"{label}: the small cache preempted nothing")
        compare(f"{args.arch} {label}", batched, expected, singles, args.atol, failures)

    if args.stops:
        check_stops(args, model, artifact, requests, singles, failures)
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
