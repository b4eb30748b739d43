// Sharding refuses to cut a quantized weight inside a scale group: at tp = 2 each rank of a
// row-parallel down projection over 64 input features takes 32 columns, which cuts groups of
// 48 (act-order groups would be kept whole on every rank instead).
// RUN: vgcu-opt %s --split-input-file --vgcu-shard-tensor-parallel="tp=2" -verify-diagnostics

module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "model.embed_tokens.weight" : tensor<256x64xf32>
    %h = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
    %wgu = vgcu.param "model.layers.0.mlp.gate_up_proj.weight" : tensor<128x64xf32>
    %gu = vgcu.linear %h, %wgu {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
    %a = vgcu.silu_and_mul %gu : tensor<?x128xf32> -> tensor<?x64xf32>
    // expected-error @+1 {{cannot shard for tensor parallelism: tp = 2 gives rank 0 columns [0, 32) of 64, which cuts the quantization groups of 48 columns}}
    %wd = vgcu.param "model.layers.0.mlp.down_proj.weight" quant(#vgcu.quant<codes = uint4, block_cols = 48, zero_point = true>) : tensor<64x64xf32>
    %d = vgcu.linear %a, %wd : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
    return %d : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x256xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<256x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
    return %l : tensor<?x256xf32>
  }
}

// -----

module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "model.embed_tokens.weight" : tensor<256x64xf32>
    %h = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
    // expected-error @+1 {{tp = 2 gives rank 0 rows [0, 32) of 128, which cuts the quantization blocks of 128 rows}}
    %wgu = vgcu.param "model.layers.0.mlp.gate_up_proj.weight" quant(#vgcu.quant<codes = fp8_e4m3, block_rows = 128, block_cols = 128>) : tensor<128x64xf32>
    %gu = vgcu.linear %h, %wgu {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
    %a = vgcu.silu_and_mul %gu : tensor<?x128xf32> -> tensor<?x64xf32>
    %wd = vgcu.param "model.layers.0.mlp.down_proj.weight" : tensor<64x64xf32>
    %d = vgcu.linear %a, %wd : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
    return %d : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x256xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<256x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
    return %l : tensor<?x256xf32>
  }
}
