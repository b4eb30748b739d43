// vgcu-lower-to-gcu kv-cache-dtype: int8 or fp8_e4m3 caches hold codes; each attention layer
// also gets its scales (gcu.kv_cache_scales, [blocks, block_size, heads] f32), which every
// kernel reading or writing the cache takes. Multi-head latent attention quantizes its latent
// and rotary-key caches the same way (one "head" each).
// RUN: vgcu-opt %s --vgcu-lower-to-gcu="kv-cache-dtype=int8" --split-input-file | FileCheck %s --check-prefix=INT8
// RUN: vgcu-opt %s --vgcu-lower-to-gcu="kv-cache-dtype=int8 fuse-rope-cache=false" --split-input-file | FileCheck %s --check-prefix=UNFUSED
// RUN: vgcu-opt %s --vgcu-lower-to-gcu="kv-cache-dtype=fp8_e4m3" --split-input-file | FileCheck %s --check-prefix=FP8
// RUN: vgcu-opt %s --vgcu-lower-to-gcu --split-input-file | FileCheck %s --check-prefix=AUTO
// RUN: not vgcu-opt %s --vgcu-lower-to-gcu="kv-cache-dtype=int4" --split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// INT8-LABEL: func.func @prefill
// INT8: %[[KC:.*]], %[[VC:.*]] = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xi8>
// INT8: %[[KS:.*]], %[[VS:.*]] = gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x2xf32>
// INT8: gcu.fused_rope_cache_attention ins({{.*}}) inouts(%[[KC]], %[[VC]] : memref<?x64x2x16xi8>, memref<?x64x2x16xi8>) scales(%[[KS]], %[[VS]] : memref<?x64x2xf32>, memref<?x64x2xf32>) outs(%{{.*}} : memref<?x64xf32>) prefill rotary neox
// INT8-LABEL: func.func @decode
// INT8: gcu.kv_cache_scales {layer = 0 : i64}
// INT8: gcu.fused_rope_cache_attention {{.*}} scales({{.*}}) outs({{.*}}) decode rotary neox

// UNFUSED-LABEL: func.func @prefill
// UNFUSED: %[[KC:.*]], %[[VC:.*]] = gcu.kv_cache {layer = 1 : i64} : memref<?x64x2x16xi8>
// UNFUSED: %[[KS:.*]], %[[VS:.*]] = gcu.kv_cache_scales {layer = 1 : i64} : memref<?x64x2xf32>
// UNFUSED: gcu.reshape_and_cache ins({{.*}}) inouts(%[[KC]], %[[VC]] : {{.*}}) scales(%[[KS]], %[[VS]] : memref<?x64x2xf32>, memref<?x64x2xf32>)
// UNFUSED: gcu.paged_attention ins({{.*}}) scales(%[[KS]], %[[VS]] : {{.*}}) outs

// FP8-LABEL: func.func @prefill
// FP8: gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf8E4M3FN>
// FP8: gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x2xf32>

// AUTO-LABEL: func.func @prefill
// AUTO: gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>
// AUTO-NOT: gcu.kv_cache_scales
// AUTO-NOT: scales(

// BAD: kv-cache-dtype must be auto, int8 or fp8_e4m3, not 'int4'
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
    return %b : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x250xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
    return %l : tensor<?x250xf32>
  }
}

// -----

// INT8-LABEL: func.func @prefill
// INT8: %[[LC:.*]], %[[RC:.*]] = gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>
// INT8: %[[LS:.*]], %[[RS:.*]] = gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x1xf32>
// INT8: gcu.mla_attention ins({{.*}}) inouts(%[[LC]], %[[RC]] : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>) scales(%[[LS]], %[[RS]] : memref<?x64x1xf32>, memref<?x64x1xf32>) outs({{.*}}) prefill

// FP8-LABEL: func.func @prefill
// FP8: gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x32xf8E4M3FN>, memref<?x64x1x8xf8E4M3FN>
// FP8: gcu.mla_attention {{.*}} scales({{.*}}) outs({{.*}}) prefill
module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "embed.weight" : tensor<250x96xf32>
    %q = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x96xf32> -> tensor<?x96xf32>
    %c = vgcu.slice %q {dim = 1 : i64, start = 0 : i64, end = 32 : i64} : tensor<?x96xf32> -> tensor<?x32xf32>
    %kpe = vgcu.slice %q {dim = 1 : i64, start = 32 : i64, end = 40 : i64} : tensor<?x96xf32> -> tensor<?x8xf32>
    %kvb = vgcu.param "kv_b.weight" : tensor<128x32xf32>
    %o = vgcu.mla_attention %pos, %q, %c, %kpe, %kvb {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64} : (tensor<?xi64>, tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x8xf32>, tensor<128x32xf32>) -> tensor<?x64xf32>
    return %o : tensor<?x64xf32>
  }
  func.func @compute_logits(%hidden: tensor<?x64xf32>) -> tensor<?x250xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
    %l = vgcu.linear %hidden, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
    return %l : tensor<?x250xf32>
  }
}
