// vgcu-fuse-add-rms-norm: a residual add feeding vgcu.rms_norm (vgcu.layer_norm) becomes vgcu.add_rms_norm (vgcu.add_layer_norm) yielding (normed, sum); broadcasting adds stay.
// RUN: vgcu-opt %s --vgcu-fuse-add-rms-norm --split-input-file | FileCheck %s

// The decoder layer's residual stream: h = residual + attn; n = norm(h); ...; out = h + mlp(n).
// The sum is used again after the norm, so it comes out of the fused op.
// CHECK-LABEL: func.func @residual_sum_reused
// CHECK-SAME: (%[[RES:[a-z0-9]+]]: tensor<?x64xf32>, %[[ATTN:[a-z0-9]+]]: tensor<?x64xf32>, %[[MLP:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.post_attention_layernorm.weight"
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.add_rms_norm %[[ATTN]], %[[RES]], %[[W]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.rms_norm
// CHECK: %[[M:.*]] = vgcu.mul %[[N]], %[[MLP]]
// CHECK: %[[OUT:.*]] = vgcu.add %[[S]], %[[M]]
// CHECK: return %[[OUT]]
func.func @residual_sum_reused(%res: tensor<?x64xf32>, %attn: tensor<?x64xf32>, %mlp: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %h = vgcu.add %res, %attn : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %m = vgcu.mul %n, %mlp : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %out = vgcu.add %h, %m : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %out : tensor<?x64xf32>
}

// -----

// A use of the sum that comes before the norm, and a weight parameter defined after the add:
// the fused op takes the add's place and the parameter moves up.
// CHECK-LABEL: func.func @sum_used_before_norm
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<?x64xbf16>, %[[B:[a-z0-9]+]]: tensor<?x64xbf16>)
// CHECK: %[[W:.*]] = vgcu.param "model.norm.weight" : tensor<64xbf16>
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.add_rms_norm %[[B]], %[[A]], %[[W]] {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
// CHECK: %[[EARLY:.*]] = vgcu.neg %[[S]]
// CHECK: return %[[N]], %[[EARLY]]
func.func @sum_used_before_norm(%a: tensor<?x64xbf16>, %b: tensor<?x64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %h = vgcu.add %a, %b : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %early = vgcu.neg %h : tensor<?x64xbf16>
  %w = vgcu.param "model.norm.weight" : tensor<64xbf16>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
  return %n, %early : tensor<?x64xbf16>, tensor<?x64xbf16>
}

// -----

// The sum is used only by the norm (the last layer's final norm): still one fused op.
// CHECK-LABEL: func.func @sum_used_only_by_norm
// CHECK: %[[N:.*]], %{{.*}} = vgcu.add_rms_norm
// CHECK-NOT: vgcu.add %
// CHECK-NOT: vgcu.rms_norm
// CHECK: return %[[N]]
func.func @sum_used_only_by_norm(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %h = vgcu.add %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n : tensor<?x64xf32>
}

// -----

// Two layers in a row: each residual add + norm pair becomes one op, chained through the sums.
// CHECK-LABEL: func.func @two_layers
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x64xf32>, %[[D1:[a-z0-9]+]]: tensor<?x64xf32>, %[[D2:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[N1:.*]], %[[S1:.*]] = vgcu.add_rms_norm %[[D1]], %[[X]]
// CHECK: %[[N2:.*]], %[[S2:.*]] = vgcu.add_rms_norm %[[D2]], %[[S1]]
// CHECK-NOT: vgcu.rms_norm
// CHECK: return %[[N1]], %[[N2]], %[[S2]]
func.func @two_layers(%x: tensor<?x64xf32>, %d1: tensor<?x64xf32>, %d2: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %w2 = vgcu.param "model.layers.1.input_layernorm.weight" : tensor<64xf32>
  %h1 = vgcu.add %x, %d1 : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n1 = vgcu.rms_norm %h1, %w1 {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %h2 = vgcu.add %h1, %d2 : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n2 = vgcu.rms_norm %h2, %w2 {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n1, %n2, %h2 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// OPT's pre-LayerNorm residual: the LayerNorm's weight and bias both move up with it.
// CHECK-LABEL: func.func @layer_norm_residual
// CHECK-SAME: (%[[RES:[a-z0-9]+]]: tensor<?x64xf16>, %[[ATTN:[a-z0-9]+]]: tensor<?x64xf16>)
// CHECK: %[[W:.*]] = vgcu.param "model.decoder.layers.0.final_layer_norm.weight"
// CHECK: %[[B:.*]] = vgcu.param "model.decoder.layers.0.final_layer_norm.bias"
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.add_layer_norm %[[ATTN]], %[[RES]], %[[W]], %[[B]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf16>, tensor<64xf16>, tensor<64xf16>
// CHECK: %[[EARLY:.*]] = vgcu.neg %[[S]]
// CHECK-NOT: vgcu.layer_norm
// CHECK: return %[[N]], %[[EARLY]]
func.func @layer_norm_residual(%res: tensor<?x64xf16>, %attn: tensor<?x64xf16>) -> (tensor<?x64xf16>, tensor<?x64xf16>) {
  %h = vgcu.add %res, %attn : (tensor<?x64xf16>, tensor<?x64xf16>) -> tensor<?x64xf16>
  %early = vgcu.neg %h : tensor<?x64xf16>
  %w = vgcu.param "model.decoder.layers.0.final_layer_norm.weight" : tensor<64xf16>
  %b = vgcu.param "model.decoder.layers.0.final_layer_norm.bias" : tensor<64xf16>
  %n = vgcu.layer_norm %h, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x64xf16>, tensor<64xf16>, tensor<64xf16>
  return %n, %early : tensor<?x64xf16>, tensor<?x64xf16>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// A bias-like add ([tokens, 64] + [64]) broadcasts: the fused op cannot produce that sum.
// CHECK-LABEL: func.func @no_fuse_bias_add
// CHECK-NOT: vgcu.add_rms_norm
// CHECK: %[[H:.*]] = vgcu.add %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
// CHECK: vgcu.rms_norm %[[H]]
// CHECK-NOT: vgcu.add_rms_norm
func.func @no_fuse_bias_add(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %b = vgcu.param "model.layers.0.mlp.down_proj.bias" : tensor<64xf32>
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %h = vgcu.add %x, %b : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n, %h : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// A per-token scalar added to every channel ([tokens, 64] + [tokens, 1]) also broadcasts.
// CHECK-LABEL: func.func @no_fuse_broadcast_column
// CHECK-NOT: vgcu.add_rms_norm
// CHECK: %[[H:.*]] = vgcu.add %{{.*}}, %{{.*}} : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
// CHECK: vgcu.rms_norm %[[H]]
// CHECK-NOT: vgcu.add_rms_norm
func.func @no_fuse_broadcast_column(%x: tensor<?x64xf32>, %c: tensor<?x1xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %h = vgcu.add %x, %c : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n : tensor<?x64xf32>
}

// -----

// The norm reads a sub, not an add.
// CHECK-LABEL: func.func @no_fuse_sub
// CHECK-NOT: vgcu.add_rms_norm
// CHECK: %[[H:.*]] = vgcu.sub
// CHECK: vgcu.rms_norm %[[H]]
// CHECK-NOT: vgcu.add_rms_norm
func.func @no_fuse_sub(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %h = vgcu.sub %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n = vgcu.rms_norm %h, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n : tensor<?x64xf32>
}

// -----

// A LayerNorm whose bias is computed after the add (not a parameter or constant that can
// move up) cannot take the add's place, and the weight defined after the add stays there.
// CHECK-LABEL: func.func @no_fuse_layer_norm_late_bias
// CHECK-NOT: vgcu.add_layer_norm
// CHECK: %[[H:.*]] = vgcu.add
// CHECK: vgcu.param "model.decoder.final_layer_norm.weight"
// CHECK: vgcu.layer_norm %[[H]]
// CHECK-NOT: vgcu.add_layer_norm
func.func @no_fuse_layer_norm_late_bias(%a: tensor<?x64xf32>, %b: tensor<?x64xf32>, %c: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %h = vgcu.add %a, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %early = vgcu.neg %h : tensor<?x64xf32>
  %w = vgcu.param "model.decoder.final_layer_norm.weight" : tensor<64xf32>
  %bias = vgcu.neg %c : tensor<64xf32>
  %n = vgcu.layer_norm %h, %w, %bias {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %n, %early : tensor<?x64xf32>, tensor<?x64xf32>
}
