"""Checks vgcu-run --trace and --profile on a tiny model: the trace's structure against the program.

Usage: trace_check.py --workdir DIR [--arch llama] [--tp N]   (vgcu-compile / vgcu-run on PATH)

Makes a tiny checkpoint, compiles it (with --summary-json), runs one prompt with --trace --profile
--json and a request file with --trace, and checks that:
  * the file is Chrome trace JSON: one process (track) per rank, "X" events with ts and dur;
  * every run of an entry is a "step" slice, and inside each, on every rank, each of the entry's
    launches appears exactly once, in program order, nested in its step, timestamps increasing and
    slices not overlapping;
  * launches carry their gcu kernel, module, layer (inside a decoder layer), shapes, dtype and bytes;
    tp > 1 shows collectives as such;
  * the profile's launches per decode step equal --summary-json's kernel launches, and its kernel
    kinds add up to the launches of a step.
Prints one line per check for FileCheck and exits 1 at the first failure.
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EPSILON_US = 2.0  # the clock is read twice around a boundary; allow rounding of the float µs


def run(command):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"trace_check: {' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    return result


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def check_trace(path, world, launches_of, expect_collectives):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    if sorted(names) != list(range(world)):
        fail(f"tracks {names}, expected one per rank 0..{world - 1}")
    steps_per_rank = []
    for rank in range(world):
        slices = sorted((e for e in events if e["ph"] == "X" and e["pid"] == rank), key=lambda e: e["ts"])
        steps = [e for e in slices if e["cat"] == "step"]
        launches = [e for e in slices if e["cat"] != "step"]
        for previous, current in zip(launches, launches[1:]):
            if current["ts"] + EPSILON_US < previous["ts"] + previous["dur"]:
                fail(f"rank {rank}: launch {current['name']} starts before {previous['name']} ends")
        for previous, current in zip(steps, steps[1:]):
            if current["ts"] + EPSILON_US < previous["ts"] + previous["dur"]:
                fail(f"rank {rank}: step {current['name']} starts before {previous['name']} ends")
        owned = 0
        for step in steps:
            entry = step["args"]["entry"]
            inside = [e for e in launches
                      if step["ts"] - EPSILON_US <= e["ts"] and e["ts"] + e["dur"] <= step["ts"] + step["dur"] + EPSILON_US]
            owned += len(inside)
            indexes = [e["args"]["index"] for e in inside]
            expected = launches_of[entry]
            if indexes != list(range(expected)) or step["args"]["launches"] != expected:
                fail(f"rank {rank}, {step['name']}: launches {indexes[:8]}... ({len(indexes)}), expected 0..{expected - 1}")
            for e in inside:
                args = e["args"]
                if not args["shapes"] or args["dtype"] not in ("f32", "f16", "bf16") or args["bytes"] <= 0:
                    fail(f"{e['name']} lacks shapes, dtype or bytes: {args}")
                if ".layers." in args["module"] and "layer" not in args:
                    fail(f"{e['name']} at {args['module']} has no layer")
        if owned != len(launches):
            fail(f"rank {rank}: {len(launches) - owned} launches outside every step")
        steps_per_rank.append([s["name"] for s in steps])
    if any(names != steps_per_rank[0] for names in steps_per_rank):
        fail(f"ranks ran different steps: {steps_per_rank}")
    collectives = sum(1 for e in events if e.get("cat") == "collective")
    if expect_collectives and collectives == 0:
        fail("no collective launch at tp > 1")
    return steps_per_rank[0], collectives


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--arch", default="llama")
    parser.add_argument("--tp", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    model = os.path.join(args.workdir, "model")
    artifact = os.path.join(args.workdir, "model.vgcu")
    run([sys.executable, os.path.join(HERE, "make_tiny_model.py"), args.arch, model])
    summary = json.loads(run(["vgcu-compile", model, "--tp", str(args.tp), "--summary-json",
                              "--log-level=warn"]).stdout)
    run(["vgcu-compile", model, "-o", artifact, "--tp", str(args.tp), "--force", "--log-level=warn"])
    decode_launches = summary["kernel_launches"]["total"]

    trace = os.path.join(args.workdir, "prompt.json")
    result = json.loads(run(["vgcu-run", artifact, "--prompt-ids", "5,17,42,9", "--max-new-tokens", "4",
                             "--trace", trace, "--profile", "--json", "--log-level=warn"]).stdout)
    profile = result["profile"]
    prefill_launches = round(profile["prefill"]["launches_per_step"])
    launches_of = {"prefill": prefill_launches, "decode": decode_launches}
    steps, collectives = check_trace(trace, args.tp, launches_of, args.tp > 1)
    print(f"{args.arch} tp={args.tp} prompt: steps {', '.join(steps)}; every launch once per rank, "
          f"in order, nested in its step; {collectives} collective slices")

    decode = profile["decode"]
    if round(decode["launches_per_step"]) != decode_launches or decode["steps"] != 3:
        fail(f"profile: {decode['launches_per_step']} launches per decode step over {decode['steps']} steps, "
             f"--summary-json says {decode_launches}")
    by_kind = sum(k["launches_per_step"] for k in decode["kernels"])
    if round(by_kind) != decode_launches or not all(k["gb_per_s"] >= 0 for k in decode["kernels"]):
        fail(f"profile kinds add up to {by_kind} launches, not {decode_launches}")
    if not any(k["gflop_per_s"] > 0 for k in decode["kernels"] if k["kernel"] == "gemm"):
        fail("profile: gemm has no GFLOP/s")
    print(f"profile: {decode_launches} launches per decode step, as --summary-json says")

    requests = os.path.join(args.workdir, "requests.jsonl")
    with open(requests, "w") as f:
        for index, prompt in enumerate([[5, 17, 42], [9, 8, 7, 6, 5, 4]]):
            f.write(json.dumps({"id": str(index), "prompt_ids": prompt, "max_tokens": 3, "temperature": 0}) + "\n")
    trace = os.path.join(args.workdir, "requests.json")
    run(["vgcu-run", artifact, "--requests", requests, "--trace", trace, "--log-level=warn"])
    steps, _ = check_trace(trace, args.tp, launches_of, args.tp > 1)
    print(f"{args.arch} tp={args.tp} requests: {len(steps)} steps, every launch once per rank")
    if any(os.path.basename(p).endswith(".part") for p in os.listdir(args.workdir)):
        fail("trace parts left behind")
    print("OK")


if __name__ == "__main__":
    main()
