"""Traces small models vgcu cannot compile, for error tests: one uses an op vgcu does not import
(torch.cumsum); with --headless, one imports but has no LM head to split into compute_logits."""

import sys

import torch


class CumulativeModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8)

    def forward(self, input_ids, positions):
        hidden = self.embed(input_ids)
        return torch.cumsum(hidden, dim=0)  # the unsupported op


class HeadlessModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8)

    def forward(self, input_ids, positions):
        return -self.embed(input_ids)  # hidden states, no projection to the vocabulary


if __name__ == "__main__":
    torch.manual_seed(0)
    headless = "--headless" in sys.argv[1:]
    model = (HeadlessModel() if headless else CumulativeModel()).eval()
    traced = torch.jit.trace(model, (torch.tensor([1, 2, 3]), torch.arange(3)))
    torch.jit.save(traced, [a for a in sys.argv[1:] if a != "--headless"][0])
