"""Writes a Hugging Face Llama checkpoint (config.json + safetensors) as a GGUF file for
llama.cpp, as its convert_hf_to_gguf.py lays out a LlamaForCausalLM: llama.cpp's tensor names,
q and k rows permuted from Hugging Face's rotate-half order to llama.cpp's, and a placeholder
SentencePiece vocabulary (the benchmark feeds token ids, never text).

    write_gguf.py MODEL_DIR OUT.gguf --gguf-py DIR [--dtype f32|f16|bf16]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))

from vgcu_ref.checkpoint import read_config  # noqa: E402
from vgcu_ref.safetensors_io import load_checkpoint  # noqa: E402


def permute(weights, heads):
    """llama.cpp's LlamaModel.permute: each head's rows from [first halves, second halves]
    to interleaved pairs."""
    return (weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--gguf-py", required=True, help="llama.cpp's gguf-py directory")
    parser.add_argument("--dtype", default="f32", choices=["f32", "f16", "bf16"])
    args = parser.parse_args()
    sys.path.insert(0, args.gguf_py)
    import gguf
    import numpy
    import torch

    config = read_config(args.model)
    if config.get("architectures") != ["LlamaForCausalLM"]:
        sys.exit("write_gguf: only LlamaForCausalLM checkpoints")
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // heads
    vocab = config["vocab_size"]
    writer = gguf.GGUFWriter(args.out, "llama")
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(float(config.get("rope_theta", 10000.0)))
    writer.add_layer_norm_rms_eps(float(config["rms_norm_eps"]))
    writer.add_file_type({"f32": gguf.LlamaFileType.ALL_F32, "f16": gguf.LlamaFileType.MOSTLY_F16,
                          "bf16": gguf.LlamaFileType.MOSTLY_BF16}[args.dtype])
    writer.add_tokenizer_model("llama")
    writer.add_token_list(["<unk>", "<s>", "</s>"] + [f"<t{i}>" for i in range(3, vocab)])
    writer.add_token_scores([0.0] * vocab)
    writer.add_token_types([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
                           + [gguf.TokenType.NORMAL] * (vocab - 3))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    names = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    per_layer = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q",
                 "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                 "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
                 "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    tensors = load_checkpoint(args.model)
    if "lm_head.weight" not in tensors:
        tensors["lm_head.weight"] = tensors["model.embed_tokens.weight"]
    for name, tensor in tensors.items():
        tensor = tensor.to(torch.float32)
        if name in names:
            target = names[name]
        else:
            parts = name.split(".")  # model.layers.N.<module>.weight
            target = f"blk.{parts[2]}.{per_layer['.'.join(parts[3:-1])]}.weight"
            if name.endswith("q_proj.weight"):
                tensor = permute(tensor, heads)
            elif name.endswith("k_proj.weight"):
                tensor = permute(tensor, kv_heads)
        # Norm weights stay f32, as the converter keeps 1-D tensors.
        if args.dtype == "f32" or tensor.dim() == 1:
            writer.add_tensor(target, tensor.numpy())
        elif args.dtype == "f16":
            writer.add_tensor(target, tensor.to(torch.float16).numpy())
        else:
            bits = tensor.to(torch.bfloat16).view(torch.int16).numpy().view(numpy.uint16)
            writer.add_tensor(target, bits, raw_dtype=gguf.GGMLQuantizationType.BF16)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
