"""Copies a tiny DeepSeek-V3 model directory, adding a multi-token-prediction layer's tensors
(model.layers.<num_hidden_layers>.enorm / hnorm / eh_proj) to its checkpoint, as V3 ships them."""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

import torch  # noqa: E402

from vgcu_ref.safetensors_io import load_file, save_file  # noqa: E402

source, target = sys.argv[1], sys.argv[2]
shutil.rmtree(target, ignore_errors=True)
shutil.copytree(source, target)
config = json.load(open(os.path.join(target, "config.json")))
layer, hidden = config["num_hidden_layers"], config["hidden_size"]
path = os.path.join(target, "model.safetensors")
tensors = load_file(path)
tensors[f"model.layers.{layer}.enorm.weight"] = torch.ones(hidden)
tensors[f"model.layers.{layer}.hnorm.weight"] = torch.ones(hidden)
tensors[f"model.layers.{layer}.eh_proj.weight"] = torch.zeros(hidden, 2 * hidden)
save_file(tensors, path)
