"""PyTorch reference of the plugin's GemmaStyleLlamaForCausalLM, for vgcu's Python checks.

Load it with ``--reference-module examples/custom_model/reference.py`` (python/e2e_check.py,
python/traced_vs_builder.py) or ``VGCU_REF_MODULES=<path>`` (every python/ tool): importing it
registers the architecture and a tiny preset with vgcu_ref, like the family modules in
python/vgcu_ref/ do.

The model is Llama with Gemma's recipe, written the way the plugin builds it:
  * norms scale by (1 + w), in Llama's order: normalize in float32, round to the model dtype,
    then multiply by (1 + w) (the weights are offsets around 0, as Gemma stores them);
  * embeddings are multiplied by sqrt(hidden_size), rounded to the model dtype first;
  * the MLP gates with GELU (tanh approximation);
  * the LM head is the embedding table (tie_word_embeddings defaults to true).
"""

import math

import torch
from torch import nn

from vgcu_ref import models, tiny
from vgcu_ref.models import Attention, CausalLM, DecoderLayer, DecoderModel, GatedMLP, RMSNorm

ARCHITECTURE = "GemmaStyleLlamaForCausalLM"


class OffsetRMSNorm(RMSNorm):
    """Llama's RMSNorm whose scale is (1 + weight)."""

    def __init__(self, dim: int, eps: float, variant: frozenset = frozenset()):
        super().__init__(dim, eps, variant)
        nn.init.zeros_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)
        return (1.0 + self.weight) * h.to(x.dtype)


class GemmaStyleModel(DecoderModel):
    def __init__(self, cfg: dict, layers, variant: frozenset):
        super().__init__(cfg, layers, variant, norm_class=OffsetRMSNorm)
        self.normalizer = cfg["hidden_size"] ** 0.5

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        h = self.embed_tokens(input_ids)
        return h * torch.tensor(self.normalizer, dtype=h.dtype)


class GemmaStyleLlamaForCausalLM(CausalLM):
    architecture = ARCHITECTURE

    def __init__(self, config: dict, variant=None):
        super().__init__(config, variant)
        cfg = self.config
        layers = [
            DecoderLayer(cfg,
                         Attention(cfg, qkv_bias=False, o_bias=False, qk_norm=False, sliding_window=None,
                                   variant=self.variant),
                         GatedMLP(cfg["hidden_size"], cfg["intermediate_size"], "gelu_pytorch_tanh",
                                  self.variant),
                         self.variant, norm_class=OffsetRMSNorm)
            for _ in range(cfg["num_hidden_layers"])
        ]
        self.model = GemmaStyleModel(cfg, layers, self.variant)
        self._finish(self.model.embed_tokens, cfg["hidden_size"])

    @staticmethod
    def resolve_family_config(cfg: dict) -> dict:
        return models.resolve_heads(cfg)

    @staticmethod
    def family_sliding_windows(cfg: dict):
        return [None] * cfg["num_hidden_layers"]

    def init_parameter(self, name, module, leaf, param, normal):
        """Seeded weights with decisive greedy choices (see tiny.init_random_weights).

        Norm offsets ~ N(0, 0.1^2), the final norm's scale (1 + w) with random signs; the
        sqrt(hidden) embedding scale makes the residual stream's RMS r, so o_proj and down_proj
        ~ N(0, r^2 / fan_in) keep the layers' contributions at that scale.
        """
        hidden = self.config["hidden_size"]
        embed_std = tiny.LOGIT_STD / math.sqrt(hidden) if self.tie_word_embeddings else 1.0
        residual_rms = embed_std * math.sqrt(hidden)
        module_name = name.rpartition(".")[0]
        if isinstance(module, nn.Linear) and leaf == "weight" and \
                module_name.rpartition(".")[2] in ("o_proj", "down_proj"):
            return normal(param.shape, residual_rms / math.sqrt(param.shape[1]))
        if not isinstance(module, OffsetRMSNorm):
            return None
        value = normal(param.shape, 0.1)
        if module_name == "model.norm":
            sign = torch.where(normal(param.shape, 1.0) < 0, -1.0, 1.0)
            value = sign * (1.0 + value) - 1.0
        return value


models.register_architecture(GemmaStyleLlamaForCausalLM, {
    **models.ARCH_DEFAULTS["LlamaForCausalLM"],
    "model_type": "gemma_style_llama",
    "tie_word_embeddings": True,
})
tiny.register_tiny_preset(ARCHITECTURE, {
    **tiny.TINY_ROPE,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "tie_word_embeddings": True,
    "bos_token_id": 2,
    "eos_token_id": 1,
})
