"""Checks that positions a trace makes inside its graph become the program's positions.

Traces a tiny model (token embedding + learned position embedding + a sinusoidal feature of the
position, then an LM head; no attention, so every token's logits depend only on the token and its
position) once per way of spelling positions, compiles each trace to an artifact with
`vgcu-compile --from-torchscript ... -o`, generates with vgcu-run and compares with eager PyTorch
generating the same way (the full sequence recomputed every step). A decode step feeds one token
at its real position: an importer that took the traced arange literally would compute position 0.

Usage: check_position_spellings.py WORKDIR [--spelling NAME ...] [--tp N]
"""

import argparse
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vgcu_ref.process import run  # noqa: E402

VOCAB, HIDDEN, MAX_POS = 40, 16, 64


class PositionModel(nn.Module):
    def __init__(self, spelling: str):
        super().__init__()
        self.spelling = spelling
        self.embed_tokens = nn.Embedding(VOCAB, HIDDEN)
        self.embed_positions = nn.Embedding(MAX_POS + 2, HIDDEN)
        self.feature = nn.Parameter(torch.randn(HIDDEN))
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)

    def positions(self, input_ids, attention_mask=None):
        s = self.spelling
        count = input_ids.size(0)
        if s == "arange":
            return torch.arange(count)
        if s == "arange-offset":  # OPT-style: positions + 2 index the table
            return torch.arange(2, count + 2) - 2
        if s == "count-arithmetic":  # scale * T + offset through mul, add and reversed sub
            return torch.arange(0, 5 - (5 - count * 1) + 0)
        if s == "ones-cumsum":
            return torch.ones_like(input_ids).cumsum(0) - 1
        if s == "float-cumsum":
            return (torch.ones_like(input_ids, dtype=torch.float32).cumsum(-1) - 1.0).long()
        if s == "mask-inplace":
            positions = attention_mask.long().cumsum(-1) - 1
            positions.masked_fill_(attention_mask == 0, 1)
            return positions
        raise ValueError(s)

    def forward(self, input_ids, attention_mask=None):
        positions = self.positions(input_ids, attention_mask)
        angle = positions.to(torch.float32) * 0.37 + 0.5  # float arithmetic on positions
        h = self.embed_tokens(input_ids) + self.embed_positions(positions + 2)
        h = h + torch.sin(angle)[:, None] * self.feature
        return self.lm_head(h)


SPELLINGS = ["arange", "arange-offset", "count-arithmetic", "ones-cumsum", "float-cumsum",
             "mask-inplace"]


def greedy(model, prompt, tokens, with_mask):
    ids = list(prompt)
    last_logits = None
    with torch.no_grad():
        for step in range(tokens):
            x = torch.tensor(ids)
            logits = model(x, torch.ones_like(x)) if with_mask else model(x)
            if step == 0:
                last_logits = logits[len(prompt) - 1]
            ids.append(int(logits[-1].argmax()))
    return ids[len(prompt):], last_logits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir")
    parser.add_argument("--spelling", action="append", choices=SPELLINGS)
    parser.add_argument("--tp", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    prompt, tokens = [5, 17, 3, 22, 9], 12
    failures = []
    for spelling in args.spelling or SPELLINGS:
        torch.manual_seed(0)
        model = PositionModel(spelling).eval()
        with_mask = spelling == "mask-inplace"
        example = (torch.tensor([1, 2, 3]),) + ((torch.ones(3, dtype=torch.long),) if with_mask else ())
        traced = torch.jit.trace(model, example)
        path = os.path.join(args.workdir, spelling + ".pt")
        torch.jit.save(traced, path)
        artifact = os.path.join(args.workdir, spelling + ".vgcu")
        run(["vgcu-compile", "--from-torchscript", path, "-o", artifact, "--tp", str(args.tp),
             "--force", "--log-level=warn"])
        ours = json.loads(run(["vgcu-run", artifact, "--prompt-ids", ",".join(map(str, prompt)),
                               "--max-new-tokens", str(tokens), "--json"]))
        want_tokens, want_logits = greedy(model, prompt, tokens, with_mask)
        difference = float((torch.tensor(ours["logits"]) - want_logits).abs().max())
        same = ours["tokens"] == want_tokens
        print(f"{spelling}: max |logit - eager| = {difference:.3g}, tokens "
              f"{'identical' if same else 'DIFFER'}")
        if difference > 1e-4 or not same:
            failures.append(f"{spelling}: {ours['tokens']} vs eager {want_tokens}")
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
