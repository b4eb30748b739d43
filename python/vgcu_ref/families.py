"""Reference architectures that live in modules of their own; importing one registers it.

Each family module defines its HF-exact modules, calls ``models.register_architecture`` and
``tiny.register_tiny_preset``, and is imported here (one line per family).
"""
from . import gemma  # noqa: E402,F401  GemmaForCausalLM, Gemma2ForCausalLM
from . import phi3  # noqa: E402,F401  Phi3ForCausalLM
from . import moe  # noqa: E402,F401  MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM
from . import deepseek  # noqa: E402,F401  DeepseekV2ForCausalLM, DeepseekV3ForCausalLM
from . import internlm2  # noqa: E402,F401  InternLM2ForCausalLM
from . import baichuan  # noqa: E402,F401  BaichuanForCausalLM (Baichuan 2 7B), BaiChuanForCausalLM (Baichuan 7B)
from . import chatglm  # noqa: E402,F401  ChatGLMModel, ChatGLMForConditionalGeneration (ChatGLM2/3, GLM-4)
from . import gpt2  # noqa: E402,F401  GPT2LMHeadModel
