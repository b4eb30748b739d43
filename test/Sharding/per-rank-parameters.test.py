"""Checks the per-rank parameter identity of a vgcu-compile --summary-json on stdin."""
import json
import sys

summary = json.load(sys.stdin)
tp = summary["tp"]
per_rank = summary["parameters_per_rank"]
assert len(per_rank) == tp and len(set(per_rank)) == 1, per_rank
stored = sum(per_rank)
expected = (summary["parameters"] + summary["vocab_padding_parameters"]
            + (tp - 1) * summary["replicated_parameters_per_rank"] + summary["replicated_head_copies"])
if stored != expected:
    sys.exit(f"tp={tp}: ranks store {stored}, expected {expected} ({summary})")
print(f"tp={tp}: {stored} = {summary['parameters']} + padding {summary['vocab_padding_parameters']}"
      f" + replicated copies + head copies {summary['replicated_head_copies']}")
