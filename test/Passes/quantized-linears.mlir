// Quantized weights through sharding and lowering: a `quant` parameter is sharded like any
// weight (its scheme kept) on block boundaries, and a linear over it lowers to one
// gcu.quant_gemm that names the artifact's codes, scales, zeros and g_idx.
// RUN: vgcu-opt %s --split-input-file --vgcu-shard-tensor-parallel="tp=2" | FileCheck %s --check-prefix=SHARD
// RUN: vgcu-opt %s --split-input-file --vgcu-shard-tensor-parallel="tp=2" --vgcu-lower-to-gcu | FileCheck %s --check-prefix=LOWER

// SHARD-LABEL: func.func @forward
// SHARD: vgcu.param "model.layers.0.mlp.gate_up_proj.weight" shard(<dim = 0, tp = 2, segments = [64, 64], units = [64, 64]>) quant(<codes = uint4, block_cols = 16, zero_point = true>) : tensor<64x64xf32>
// SHARD: vgcu.param "model.layers.0.mlp.down_proj.weight" shard(<dim = 1, tp = 2, segments = [64], units = [64]>) quant(<codes = uint8, block_cols = 16, zero_point = true, act_order = true>) : tensor<64x32xf32>

// LOWER-LABEL: func.func @decode
// LOWER-DAG: %[[GU:.*]] = gcu.weight "model.layers.0.mlp.gate_up_proj.weight" : memref<64x32xi8>
// LOWER-DAG: %[[GUS:.*]] = gcu.weight "model.layers.0.mlp.gate_up_proj.weight.scales" : memref<64x4xf32>
// LOWER-DAG: %[[GUZ:.*]] = gcu.weight "model.layers.0.mlp.gate_up_proj.weight.zeros" : memref<64x4xf32>
// LOWER: gcu.quant_gemm ins(%{{.*}}, %[[GU]] : memref<?x64xf32>, memref<64x32xi8>) scales(%[[GUS]] : memref<64x4xf32>) zeros(%[[GUZ]] : memref<64x4xf32>) outs(%{{.*}} : memref<?x64xf32>) quant <codes = uint4, block_cols = 16, zero_point = true>
// The act-order weight keeps all four groups of its 64 input features on both ranks.
// LOWER-DAG: %[[D:.*]] = gcu.weight "model.layers.0.mlp.down_proj.weight" : memref<64x32xi8>
// LOWER-DAG: %[[DS:.*]] = gcu.weight "model.layers.0.mlp.down_proj.weight.scales" : memref<64x4xf32>
// LOWER-DAG: %[[DG:.*]] = gcu.weight "model.layers.0.mlp.down_proj.weight.g_idx" : memref<32xi32>
// LOWER: gcu.quant_gemm ins(%{{.*}}, %[[D]] : memref<?x32xf32>, memref<64x32xi8>) scales(%[[DS]] : memref<64x4xf32>) zeros(%{{.*}} : memref<64x4xf32>) g_idx(%[[DG]] : memref<32xi32>) outs(%{{.*}} : memref<?x64xf32>) quant <codes = uint8, block_cols = 16, zero_point = true, act_order = true>
// LOWER-NOT: gcu.weight "model.layers.0.mlp.down_proj.weight" : memref<64x32xf32>
module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "model.embed_tokens.weight" : tensor<256x64xf32>
    %h = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
    %wgu = vgcu.param "model.layers.0.mlp.gate_up_proj.weight" quant(#vgcu.quant<codes = uint4, block_cols = 16, zero_point = true>) : tensor<128x64xf32> loc("model.layers.0.mlp.gate_up_proj")
    %gu = vgcu.linear %h, %wgu {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32> loc("model.layers.0.mlp.gate_up_proj")
    %a = vgcu.silu_and_mul %gu : tensor<?x128xf32> -> tensor<?x64xf32> loc("model.layers.0.mlp.act_fn")
    %wd = vgcu.param "model.layers.0.mlp.down_proj.weight" quant(#vgcu.quant<codes = uint8, block_cols = 16, zero_point = true, act_order = true>) : tensor<64x64xf32> loc("model.layers.0.mlp.down_proj")
    %d = vgcu.linear %a, %wd : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32> loc("model.layers.0.mlp.down_proj")
    return %d : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x256xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<256x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
    return %l : tensor<?x256xf32>
  }
}
