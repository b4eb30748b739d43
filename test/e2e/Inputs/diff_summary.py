"""Prints the lines diff.test checks from vgcu_diff.py --json output."""
import json
import sys

result = json.load(open(sys.argv[1]))
print("first_divergence:", result["first_divergence"])
print("first_divergent_module:", result["first_divergent_module"])
for layer in result["layers"]:
    print(layer["module"], "matches" if layer["max_abs_error"] < 1e-5 else "differs",
          "cosine > 0.9" if layer["cosine"] > 0.9 else "cosine <= 0.9")
print("module kernels:", ", ".join(result["module_kernels"]))
