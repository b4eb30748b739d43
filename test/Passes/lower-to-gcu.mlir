// vgcu-lower-to-gcu: each vgcu op becomes its kernel by one pattern: a linear with its
// epilogue and residual is one gemm, vgcu.rotary_attention one fused rope + cache +
// attention launch, a plain vgcu.attention the fused launch without rotary (or, with
// fuse-rope-cache=false, the cache write and paged attention). @prefill and @decode take
// vLLM's flattened batch and differ only in the attention phase; the logits run on each
// sequence's newest token.
// RUN: vgcu-opt %s --vgcu-lower-to-gcu --split-input-file | FileCheck %s
// RUN: vgcu-opt %s --vgcu-lower-to-gcu="fuse-rope-cache=false" --split-input-file | FileCheck %s --check-prefix=UNFUSED

// CHECK-LABEL: func.func @prefill
// CHECK-SAME: (%[[IDS:[a-z0-9]+]]: memref<?xi64> {vgcu.name = "input_ids"}, %[[POS:[a-z0-9]+]]: memref<?xi64> {vgcu.name = "positions"}, %[[SLOTS:[a-z0-9]+]]: memref<?xi64> {vgcu.name = "slot_mapping"}, %[[QSL:[a-z0-9]+]]: memref<?xi64> {vgcu.name = "query_start_loc"}, %[[LENS:[a-z0-9]+]]: memref<?xi64> {vgcu.name = "seq_lens"}, %[[BLOCKS:[a-z0-9]+]]: memref<?x?xi64> {vgcu.name = "block_tables"}) -> memref<?x250xf32>
// CHECK: %[[T:.*]] = gcu.dim %[[IDS]], 0
// CHECK: %[[S:.*]] = gcu.dim %[[LENS]], 0
// CHECK: %[[H:.*]] = gcu.alloc(%[[T]]) : memref<?x64xf32>
// CHECK: gcu.embedding ins(%[[IDS]], %{{.*}} : memref<?xi64>, memref<250x64xf32>) outs(%[[H]] : memref<?x64xf32>)
// CHECK: %[[QKV:.*]] = gcu.alloc(%[[T]]) : memref<?x128xf32>
// CHECK: gcu.gemm ins(%[[H]], %{{.*}} : memref<?x64xf32>, memref<128x64xf32>) outs(%[[QKV]] : memref<?x128xf32>)
// CHECK: %[[KC:.*]], %[[VC:.*]] = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>
// CHECK: gcu.fused_rope_cache_attention ins(%{{.*}}, %{{.*}}, %{{.*}}, %[[POS]], %[[SLOTS]], %[[QSL]], %[[LENS]], %[[BLOCKS]] : {{.*}}) inouts(%[[KC]], %[[VC]] : {{.*}}) outs(%{{.*}} : memref<?x64xf32>) prefill rotary neox
// CHECK: %[[KC1:.*]], %[[VC1:.*]] = gcu.kv_cache {layer = 1 : i64}
// CHECK: gcu.fused_rope_cache_attention {{.*}} prefill {
// CHECK: %[[UP:.*]] = gcu.alloc(%[[T]]) : memref<?x64xf32>
// CHECK: gcu.gemm ins(%{{.*}}, %{{.*}} : memref<?x64xf32>, memref<128x64xf32>) residual(%[[H]] : memref<?x64xf32>) outs(%[[UP]] : memref<?x64xf32>) epilogue silu_and_mul
// CHECK: %[[LAST:.*]] = gcu.last_token_view %[[UP]], %[[QSL]] : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf32>
// CHECK: %[[LOGITS:.*]] = gcu.alloc(%[[S]]) : memref<?x250xf32>
// CHECK: gcu.gemm ins(%[[LAST]], %{{.*}} : memref<?x64xf32>, memref<250x64xf32>) outs(%[[LOGITS]] : memref<?x250xf32>)
// CHECK: return %[[LOGITS]]
// CHECK-LABEL: func.func @decode
// CHECK: gcu.fused_rope_cache_attention {{.*}} decode rotary neox
// CHECK-NOT: vgcu.

// UNFUSED-LABEL: func.func @prefill
// UNFUSED: gcu.kv_cache {layer = 1 : i64}
// UNFUSED: gcu.reshape_and_cache
// UNFUSED: gcu.paged_attention
// UNFUSED-LABEL: func.func @decode
// UNFUSED: gcu.reshape_and_cache
// UNFUSED: gcu.paged_attention
module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "embed.weight" : tensor<250x64xf32>
    %h = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
    %wqkv = vgcu.param "qkv.weight" : tensor<128x64xf32>
    %qkv = vgcu.linear %h, %wqkv : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
    %q = vgcu.slice %qkv {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
    %k = vgcu.slice %qkv {dim = 1 : i64, start = 64 : i64, end = 96 : i64} : tensor<?x128xf32> -> tensor<?x32xf32>
    %v = vgcu.slice %qkv {dim = 1 : i64, start = 96 : i64, end = 128 : i64} : tensor<?x128xf32> -> tensor<?x32xf32>
    %a = vgcu.rotary_attention %pos, %q, %k, %v neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
    %b = vgcu.attention %a, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
    %wgu = vgcu.param "gate_up.weight" : tensor<128x64xf32>
    %up = vgcu.linear %b, %wgu residual(%h : tensor<?x64xf32>) epilogue silu_and_mul : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x64xf32>
    return %up : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x250xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
    return %l : tensor<?x250xf32>
  }
}
