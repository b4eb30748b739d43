"""Reference architectures that live in modules of their own; importing one registers it.

Each family module defines its HF-exact modules, calls ``models.register_architecture`` and
``tiny.register_tiny_preset``, and is imported here (one line per family). Modules outside the
tree (a plugin's reference, e.g. examples/custom_model/reference.py) are imported from the paths in
VGCU_REF_MODULES (os.pathsep-separated), after the families.
"""
from . import gemma  # noqa: E402,F401  GemmaForCausalLM, Gemma2ForCausalLM
from . import phi3  # noqa: E402,F401  Phi3ForCausalLM
from . import moe  # noqa: E402,F401  MixtralForCausalLM, Qwen2MoeForCausalLM, Qwen3MoeForCausalLM
from . import deepseek  # noqa: E402,F401  DeepseekV2ForCausalLM, DeepseekV3ForCausalLM
from . import internlm2  # noqa: E402,F401  InternLM2ForCausalLM
from . import baichuan  # noqa: E402,F401  BaichuanForCausalLM (Baichuan 2 7B), BaiChuanForCausalLM (Baichuan 7B)
from . import chatglm  # noqa: E402,F401  ChatGLMModel, ChatGLMForConditionalGeneration (ChatGLM2/3, GLM-4)
from . import gpt2  # noqa: E402,F401  GPT2LMHeadModel

# Reference modules outside the tree (a plugin's model): VGCU_REF_MODULES lists their paths.
import importlib.util  # noqa: E402
import os  # noqa: E402

_LOADED = set()


def load_reference_modules(paths) -> None:
    """Imports each reference module file once (importing one registers its architectures)."""
    for path in paths:
        path = os.path.abspath(path)
        if path in _LOADED:
            continue
        spec = importlib.util.spec_from_file_location(f"vgcu_ref_external_{len(_LOADED)}", path)
        if spec is None or not os.path.isfile(path):
            raise ImportError(f"reference module {path!r} is not a Python file")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _LOADED.add(path)


load_reference_modules(p for p in os.environ.get("VGCU_REF_MODULES", "").split(os.pathsep) if p)
