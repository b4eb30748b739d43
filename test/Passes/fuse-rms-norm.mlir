// vgcu-fuse-rms-norm: RMSNorm/LayerNorm spelled in traced primitives become vgcu.rms_norm / vgcu.layer_norm; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-rms-norm --split-input-file | FileCheck %s

// eps is an f32 constant in a traced graph, so the fused op records its f32 value
// (1e-6 as f32 is 9.99999997e-7).

//===----------------------------------------------------------------------===//
// RMSNorm spellings
//===----------------------------------------------------------------------===//

// HF LlamaRMSNorm in an f32 model: weight * (x * rsqrt(mean(x.pow(2), -1, keepdim) + eps)).
// CHECK-LABEL: func.func @rms_pow_rsqrt_weight_first
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.input_layernorm.weight" : tensor<64xf32>
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %[[W]] {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.pow
// CHECK-NOT: vgcu.mean
// CHECK-NOT: vgcu.rsqrt
// CHECK: return %[[N]]
func.func @rms_pow_rsqrt_weight_first(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.layers.0.input_layernorm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// variant mul_square: the variance from x * x; eps on the left of the add; mean over dim 1
// (the last dimension, spelled positively).
// CHECK-LABEL: func.func @rms_mul_square
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %{{.*}} {epsilon = 9.9999997473787516E-6 : f64}
// CHECK-NOT: vgcu.mean
// CHECK: return %[[N]]
func.func @rms_mul_square(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %eps = vgcu.constant dense<1.0e-05> : tensor<f32>
  %sq = vgcu.mul %x, %x : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: 1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %eps, %var : (tensor<f32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %r, %x : (tensor<?x1xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// variant sqrt_div: x / sqrt(var + eps).
// CHECK-LABEL: func.func @rms_sqrt_div
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK-NOT: vgcu.sqrt
// CHECK-NOT: vgcu.div
// CHECK: return %[[N]]
func.func @rms_sqrt_div(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %s = vgcu.sqrt %ve : tensor<?x1xf32>
  %h = vgcu.div %x, %s : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// variant weight_first: normed * weight (the weight on the right).
// CHECK-LABEL: func.func @rms_weight_last
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.norm.weight"
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %[[W]]
// CHECK: return %[[N]]
func.func @rms_weight_last(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %h, %w : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A bf16 model: upcast to f32, normalize, cast back to bf16, then the bf16 weight (HF).
// CHECK-LABEL: func.func @rms_bf16_upcast
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %[[W]] {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
// CHECK-NOT: vgcu.cast
// CHECK-NOT: vgcu.rsqrt
// CHECK: return %[[N]]
func.func @rms_bf16_upcast(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %w = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xbf16>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %h = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %sq = vgcu.pow %h, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %n = vgcu.mul %h, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nb = vgcu.cast %n : tensor<?x64xf32> to tensor<?x64xbf16>
  %y = vgcu.mul %w, %nb : (tensor<64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// bf16 with every variant at once: sqrt_div, mul_square and weight_first.
// CHECK-LABEL: func.func @rms_bf16_all_variants
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>)
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
// CHECK-NOT: vgcu.cast
// CHECK: return %[[N]]
func.func @rms_bf16_all_variants(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %w = vgcu.param "model.norm.weight" : tensor<64xbf16>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %h = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %sq = vgcu.mul %h, %h : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %s = vgcu.sqrt %ve : tensor<?x1xf32>
  %n = vgcu.div %h, %s : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nb = vgcu.cast %n : tensor<?x64xf32> to tensor<?x64xbf16>
  %y = vgcu.mul %nb, %w : (tensor<?x64xbf16>, tensor<64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// Qwen3's per-head q_norm: rank 3 [tokens, heads, head_dim], the weight as long as head_dim.
// CHECK-LABEL: func.func @rms_per_head
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x16xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.self_attn.q_norm.weight" : tensor<16xf32>
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[Q]], %[[W]] {{.*}} : tensor<?x4x16xf32>, tensor<16xf32>
// CHECK: return %[[N]]
func.func @rms_per_head(%q: tensor<?x4x16xf32>) -> tensor<?x4x16xf32> {
  %w = vgcu.param "model.layers.0.self_attn.q_norm.weight" : tensor<16xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %q, %two : (tensor<?x4x16xf32>, tensor<f32>) -> tensor<?x4x16xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x4x16xf32> -> tensor<?x4x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x4x1xf32>, tensor<f32>) -> tensor<?x4x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x4x1xf32>
  %h = vgcu.mul %q, %r : (tensor<?x4x16xf32>, tensor<?x4x1xf32>) -> tensor<?x4x16xf32>
  %y = vgcu.mul %w, %h : (tensor<16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  return %y : tensor<?x4x16xf32>
}

// -----

// The per-head norm in a bf16 model (upcast around it), on a [tokens, heads, head_dim] key.
// CHECK-LABEL: func.func @rms_per_head_bf16
// CHECK-SAME: (%[[K:.*]]: tensor<?x2x16xbf16>)
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[K]], %{{.*}} : tensor<?x2x16xbf16>, tensor<16xbf16>
// CHECK: return %[[N]]
func.func @rms_per_head_bf16(%k: tensor<?x2x16xbf16>) -> tensor<?x2x16xbf16> {
  %w = vgcu.param "model.layers.0.self_attn.k_norm.weight" : tensor<16xbf16>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %h = vgcu.cast %k : tensor<?x2x16xbf16> to tensor<?x2x16xf32>
  %sq = vgcu.pow %h, %two : (tensor<?x2x16xf32>, tensor<f32>) -> tensor<?x2x16xf32>
  %var = vgcu.mean %sq {dims = array<i64: 2>, keepdim} : tensor<?x2x16xf32> -> tensor<?x2x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x2x1xf32>, tensor<f32>) -> tensor<?x2x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x2x1xf32>
  %n = vgcu.mul %h, %r : (tensor<?x2x16xf32>, tensor<?x2x1xf32>) -> tensor<?x2x16xf32>
  %nb = vgcu.cast %n : tensor<?x2x16xf32> to tensor<?x2x16xbf16>
  %y = vgcu.mul %w, %nb : (tensor<16xbf16>, tensor<?x2x16xbf16>) -> tensor<?x2x16xbf16>
  return %y : tensor<?x2x16xbf16>
}

// -----

//===----------------------------------------------------------------------===//
// LayerNorm spelled out: (x - mean) / sqrt(mean((x - mean)²) + eps) · w + b
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @layer_norm_decomposed
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK-DAG: %[[W:.*]] = vgcu.param "model.decoder.layers.0.self_attn_layer_norm.weight" : tensor<64xf32>
// CHECK-DAG: %[[B:.*]] = vgcu.param "model.decoder.layers.0.self_attn_layer_norm.bias" : tensor<64xf32>
// CHECK: %[[N:.*]] = vgcu.layer_norm %[[X]], %[[W]], %[[B]] {epsilon = 9.9999997473787516E-6 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.mean
// CHECK-NOT: vgcu.sub
// CHECK: return %[[N]]
func.func @layer_norm_decomposed(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.decoder.layers.0.self_attn_layer_norm.weight" : tensor<64xf32>
  %b = vgcu.param "model.decoder.layers.0.self_attn_layer_norm.bias" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-05> : tensor<f32>
  %mu = vgcu.mean %x {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %c = vgcu.sub %x, %mu : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %sq = vgcu.pow %c, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %s = vgcu.sqrt %ve : tensor<?x1xf32>
  %n = vgcu.div %c, %s : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nw = vgcu.mul %n, %w : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = vgcu.add %nw, %b : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// LayerNorm with rsqrt, the centered square as c * c, weight on the left and the bias first
// in the add.
// CHECK-LABEL: func.func @layer_norm_rsqrt_mul_square
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[N:.*]] = vgcu.layer_norm %[[X]], %{{.*}}, %{{.*}} {epsilon = 9.9999997473787516E-6 : f64}
// CHECK: return %[[N]]
func.func @layer_norm_rsqrt_mul_square(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.decoder.final_layer_norm.weight" : tensor<64xf32>
  %b = vgcu.param "model.decoder.final_layer_norm.bias" : tensor<64xf32>
  %eps = vgcu.constant dense<1.0e-05> : tensor<f32>
  %mu = vgcu.mean %x {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %c = vgcu.sub %x, %mu : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %sq = vgcu.mul %c, %c : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %n = vgcu.mul %c, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nw = vgcu.mul %w, %n : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %y = vgcu.add %b, %nw : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// The mean is over the token dimension (dim 0), not the features.
// CHECK-LABEL: func.func @no_rms_mean_over_tokens
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.pow
// CHECK: vgcu.mean %{{.*}} {dims = array<i64: 0>, keepdim}
// CHECK: vgcu.rsqrt
// CHECK: vgcu.mul
// CHECK: vgcu.mul
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_mean_over_tokens(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: 0>, keepdim} : tensor<?x64xf32> -> tensor<1x64xf32>
  %ve = vgcu.add %var, %eps : (tensor<1x64xf32>, tensor<f32>) -> tensor<1x64xf32>
  %r = vgcu.rsqrt %ve : tensor<1x64xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A rank-3 value whose mean is over the heads and the channels together (dims 1 and 2).
// CHECK-LABEL: func.func @no_rms_mean_over_two_dims
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.mean %{{.*}} {dims = array<i64: 1, 2>, keepdim}
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_mean_over_two_dims(%x: tensor<?x4x16xf32>) -> tensor<?x4x16xf32> {
  %w = vgcu.param "model.layers.0.self_attn.q_norm.weight" : tensor<16xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x4x16xf32>, tensor<f32>) -> tensor<?x4x16xf32>
  %var = vgcu.mean %sq {dims = array<i64: 1, 2>, keepdim} : tensor<?x4x16xf32> -> tensor<?x1x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1x1xf32>, tensor<f32>) -> tensor<?x1x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x4x16xf32>, tensor<?x1x1xf32>) -> tensor<?x4x16xf32>
  %y = vgcu.mul %w, %h : (tensor<16xf32>, tensor<?x4x16xf32>) -> tensor<?x4x16xf32>
  return %y : tensor<?x4x16xf32>
}

// -----

// No epsilon: rsqrt(var) directly.
// CHECK-LABEL: func.func @no_rms_missing_eps
// CHECK-NOT: vgcu.rms_norm
// CHECK: %[[VAR:.*]] = vgcu.mean
// CHECK: vgcu.rsqrt %[[VAR]]
// CHECK: vgcu.mul
// CHECK: vgcu.mul
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_missing_eps(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %r = vgcu.rsqrt %var : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// "eps" is a runtime value (a function argument), not a constant.
// CHECK-LABEL: func.func @no_rms_eps_not_constant
// CHECK-SAME: %[[EPS:[a-z0-9]+]]: tensor<f32>
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.add %{{.*}}, %[[EPS]]
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_eps_not_constant(%x: tensor<?x64xf32>, %eps: tensor<f32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// "eps" is a per-channel constant vector: the result is no longer an RMSNorm.
// CHECK-LABEL: func.func @no_rms_eps_not_scalar
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.add %{{.*}}, %{{.*}} : (tensor<?x1xf32>, tensor<4xf32>) -> tensor<?x4xf32>
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_eps_not_scalar(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<4xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<[1.0e-06, 2.0e-06, 3.0e-06, 4.0e-06]> : tensor<4xf32>
  %sq = vgcu.pow %x, %two : (tensor<?x4xf32>, tensor<f32>) -> tensor<?x4xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x4xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %r = vgcu.rsqrt %ve : tensor<?x4xf32>
  %h = vgcu.mul %x, %r : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %y = vgcu.mul %w, %h : (tensor<4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// eps = 0 is not a positive epsilon (vgcu.rms_norm requires one).
// CHECK-LABEL: func.func @no_rms_eps_zero
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_eps_zero(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<0.0> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// The variance is of x³, not x².
// CHECK-LABEL: func.func @no_rms_cube
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.pow
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_cube(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %three = vgcu.constant dense<3.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %three : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// The variance is of another tensor than the one normalized.
// CHECK-LABEL: func.func @no_rms_other_variance
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.rsqrt
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_other_variance(%x: tensor<?x64xf32>, %z: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %z, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A 2-D [1, 64] "weight": broadcasts to the same result but is not a 1-D channel weight.
// CHECK-LABEL: func.func @no_rms_weight_2d
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.rsqrt
// CHECK: vgcu.mul %{{.*}}, %{{.*}} : (tensor<1x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_weight_2d(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<1x64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<1x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A 1-D weight of one element (a scalar gain) is not as long as the last dimension.
// CHECK-LABEL: func.func @no_rms_weight_not_channel_sized
// CHECK-NOT: vgcu.rms_norm
// CHECK: vgcu.rsqrt
// CHECK: vgcu.mul %{{.*}}, %{{.*}} : (tensor<1xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
// CHECK-NOT: vgcu.rms_norm
func.func @no_rms_weight_not_channel_sized(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<1xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<1xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// LayerNorm look-alike: the centering mean is over the tokens.
// CHECK-LABEL: func.func @no_layer_norm_center_over_tokens
// CHECK-NOT: vgcu.layer_norm
// CHECK: vgcu.mean %{{.*}} {dims = array<i64: 0>, keepdim}
// CHECK: vgcu.sub
// CHECK-NOT: vgcu.layer_norm
func.func @no_layer_norm_center_over_tokens(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.decoder.final_layer_norm.weight" : tensor<64xf32>
  %b = vgcu.param "model.decoder.final_layer_norm.bias" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-05> : tensor<f32>
  %mu = vgcu.mean %x {dims = array<i64: 0>, keepdim} : tensor<?x64xf32> -> tensor<1x64xf32>
  %c = vgcu.sub %x, %mu : (tensor<?x64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  %sq = vgcu.pow %c, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %s = vgcu.sqrt %ve : tensor<?x1xf32>
  %n = vgcu.div %c, %s : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %nw = vgcu.mul %n, %w : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %y = vgcu.add %nw, %b : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// RMSNorm in f32 around a narrower model (Gemma)
//===----------------------------------------------------------------------===//

// HF GemmaRMSNorm in a bf16 model: (x.float() * rsqrt(mean(x.float()²) + eps) * (1 + w.float()))
// .type_as(x), the (1 + w) already folded into an f32 weight: one vgcu.rms_norm on the bf16
// input with the f32 weight (scaled before its one rounding).
// CHECK-LABEL: func.func @rms_in_f32_bf16_model
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>)
// CHECK: %[[W:.*]] = vgcu.param "model.norm.weight.folded" computed_by @fold.0 : tensor<64xf32>
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %[[W]] {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x64xbf16>, tensor<64xf32>
// CHECK-NOT: vgcu.cast
// CHECK: return %[[N]]
func.func @rms_in_f32_bf16_model(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %w = vgcu.param "model.norm.weight.folded" computed_by @fold.0 : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %x32 = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %sq = vgcu.pow %x32, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %r = vgcu.rsqrt %ve : tensor<?x1xf32>
  %h = vgcu.mul %x32, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %h, %w : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %out = vgcu.cast %y : tensor<?x64xf32> to tensor<?x64xbf16>
  return %out : tensor<?x64xbf16>
}
func.func private @fold.0() -> tensor<64xf32>

// -----

// Look-alike: the f32 norm's result is cast to another type than its input had (f16 from
// bf16): rounding to f16 is not what the input's norm would do, so the casts stay.
// CHECK-LABEL: func.func @no_f32_norm_other_type
// CHECK: vgcu.cast %{{.*}} : tensor<?x64xbf16> to tensor<?x64xf32>
// CHECK: vgcu.rms_norm %{{.*}} : tensor<?x64xf32>, tensor<64xf32>
// CHECK: vgcu.cast %{{.*}} : tensor<?x64xf32> to tensor<?x64xf16>
func.func @no_f32_norm_other_type(%x: tensor<?x64xbf16>) -> tensor<?x64xf16> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %x32 = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  %n = vgcu.rms_norm %x32, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %out = vgcu.cast %n : tensor<?x64xf32> to tensor<?x64xf16>
  return %out : tensor<?x64xf16>
}
