"""Traces a small model that uses an op vgcu does not import (torch.cumsum), for error tests."""

import sys

import torch


class CumulativeModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8)

    def forward(self, input_ids, positions):
        hidden = self.embed(input_ids)
        return torch.cumsum(hidden, dim=0)  # the unsupported op


if __name__ == "__main__":
    torch.manual_seed(0)
    model = CumulativeModel().eval()
    traced = torch.jit.trace(model, (torch.tensor([1, 2, 3]), torch.arange(3)))
    torch.jit.save(traced, sys.argv[1])
