"""Traces small models vgcu cannot compile, for error tests.

Usage: trace_unsupported.py OUT.pt [--headless | --kind KIND]

  cumsum (default)  uses an op vgcu does not import (torch.cumsum of hidden states)
  headless          imports, but has no LM head to split into compute_logits
  three-inputs      forward(input_ids, position_ids, token_type_ids): not a signature vgcu imports
  mask-as-data      forward(input_ids, attention_mask) that multiplies the hidden states by the
                    mask (padding), where vgcu only accepts a mask that derives positions
  arange-step       forward(input_ids) whose in-graph positions are arange(0, 2 T, 2)
  token-types       forward(input_ids, token_type_ids): a second input vgcu does not know
  baked-positions   forward(input_ids) whose positions were traced as constants
  flatten-tokens    a reshape that merges the token dimension with the hidden one
  expert-loop       Hugging Face's mixture-of-experts loop (one_hot -> nonzero -> where ->
                    index_add_), which the trace unrolls for the experts the example hit
"""

import sys

import torch


class _Embedded(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(16, 8)
        self.lm_head = torch.nn.Linear(8, 16, bias=False)


class CumulativeModel(_Embedded):
    def forward(self, input_ids, positions):
        hidden = self.embed(input_ids)
        return torch.cumsum(hidden, dim=0)  # the unsupported op


class HeadlessModel(_Embedded):
    def forward(self, input_ids, positions):
        return -self.embed(input_ids)  # hidden states, no projection to the vocabulary


class ThreeInputs(_Embedded):
    def forward(self, input_ids, position_ids, token_type_ids):
        return self.lm_head(self.embed(input_ids) + self.embed(token_type_ids))


class MaskAsData(_Embedded):
    def forward(self, input_ids, attention_mask):
        hidden = self.embed(input_ids) * attention_mask[:, None].to(torch.float32)
        return self.lm_head(hidden)


class ArangeStep(_Embedded):
    def forward(self, input_ids):
        positions = torch.arange(0, 2 * input_ids.size(0), 2)
        return self.lm_head(self.embed(input_ids) + self.embed(positions % 16))


class TokenTypes(_Embedded):
    def forward(self, input_ids, token_type_ids):
        return self.lm_head(self.embed(input_ids) + self.embed(token_type_ids))


class BakedPositions(_Embedded):
    def forward(self, input_ids):
        positions = torch.arange(3)  # written for the example's length: a constant in the trace
        return self.lm_head(self.embed(input_ids) + self.embed(positions))


class FlattenTokens(_Embedded):
    def forward(self, input_ids, positions):
        hidden = self.embed(input_ids).reshape(-1)  # [T * 8]
        return self.lm_head(hidden.view(input_ids.size(0), 8))


class ExpertLoop(_Embedded):
    def __init__(self):
        super().__init__()
        self.gate = torch.nn.Linear(8, 4, bias=False)
        self.experts = torch.nn.ModuleList(torch.nn.Linear(8, 8, bias=False) for _ in range(4))

    def forward(self, input_ids, positions):
        x = self.embed(input_ids)
        weights, selected = torch.topk(torch.softmax(self.gate(x), dim=-1), 2, dim=-1)
        out = torch.zeros_like(x)
        mask = torch.nn.functional.one_hot(selected, num_classes=4).permute(2, 1, 0)
        hit = torch.greater(mask.sum(dim=(-1, -2)), 0).nonzero()
        for expert in hit:
            slot, tokens = torch.where(mask[expert].squeeze(0))
            out.index_add_(0, tokens, self.experts[int(expert)](x[tokens]) * weights[tokens, slot, None])
        return self.lm_head(out)


KINDS = {
    "cumsum": (CumulativeModel, lambda: (torch.tensor([1, 2, 3]), torch.arange(3))),
    "headless": (HeadlessModel, lambda: (torch.tensor([1, 2, 3]), torch.arange(3))),
    "three-inputs": (ThreeInputs, lambda: (torch.tensor([1, 2, 3]), torch.arange(3),
                                           torch.zeros(3, dtype=torch.long))),
    "mask-as-data": (MaskAsData, lambda: (torch.tensor([1, 2, 3]), torch.ones(3, dtype=torch.long))),
    "arange-step": (ArangeStep, lambda: (torch.tensor([1, 2, 3]),)),
    "token-types": (TokenTypes, lambda: (torch.tensor([1, 2, 3]), torch.zeros(3, dtype=torch.long))),
    "baked-positions": (BakedPositions, lambda: (torch.tensor([1, 2, 3]),)),
    "flatten-tokens": (FlattenTokens, lambda: (torch.tensor([1, 2, 3]), torch.arange(3))),
    "expert-loop": (ExpertLoop, lambda: (torch.tensor([1, 2, 3]), torch.arange(3))),
}


if __name__ == "__main__":
    args = sys.argv[1:]
    kind = "cumsum"
    if "--headless" in args:
        args.remove("--headless")
        kind = "headless"
    if "--kind" in args:
        at = args.index("--kind")
        kind = args[at + 1]
        del args[at:at + 2]
    if kind not in KINDS or len(args) != 1:
        sys.exit(__doc__)
    torch.manual_seed(0)
    model_class, example = KINDS[kind]
    model = model_class().eval()
    # The expert loop's trace differs from eager on other inputs by construction.
    traced = torch.jit.trace(model, example(), check_trace=kind != "expert-loop")
    torch.jit.save(traced, args[0])
