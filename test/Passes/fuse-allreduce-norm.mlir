// vgcu-fuse-allreduce-norm: an all_reduce read only by add_rms_norm (add_layer_norm) becomes vgcu.all_reduce_add_rms_norm (all_reduce_add_layer_norm); shared all_reduces stay.
// RUN: vgcu-opt %s --vgcu-fuse-allreduce-norm --split-input-file | FileCheck %s

// A row-parallel o_proj's partial sum, reduced, then added to the residual and normalized.
// CHECK-LABEL: func.func @all_reduce_input
// CHECK-SAME: (%[[PART:[a-z0-9]+]]: tensor<?x64xf32>, %[[RES:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.post_attention_layernorm.weight"
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.all_reduce_add_rms_norm %[[PART]], %[[RES]], %[[W]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.all_reduce %
// CHECK-NOT: vgcu.add_rms_norm
// CHECK: return %[[N]], %[[S]]
func.func @all_reduce_input(%partial: tensor<?x64xf32>, %res: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n, %s = vgcu.add_rms_norm %full, %res, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n, %s : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// The reduced value as the residual operand: the sum is the same.
// CHECK-LABEL: func.func @all_reduce_residual
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x64xbf16>, %[[PART:[a-z0-9]+]]: tensor<?x64xbf16>)
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.all_reduce_add_rms_norm %[[PART]], %[[X]], %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
// CHECK-NOT: vgcu.all_reduce %
// CHECK: return %[[N]], %[[S]]
func.func @all_reduce_residual(%x: tensor<?x64xbf16>, %partial: tensor<?x64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %w = vgcu.param "model.layers.1.input_layernorm.weight" : tensor<64xbf16>
  %full = vgcu.all_reduce %partial : tensor<?x64xbf16>
  %n, %s = vgcu.add_rms_norm %x, %full, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xbf16>
  return %n, %s : tensor<?x64xbf16>, tensor<?x64xbf16>
}

// -----

// Attention and MLP of one layer, both row-parallel: each all_reduce feeds the next norm.
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[H:[a-z0-9]+]]: tensor<?x64xf32>, %[[PA:[a-z0-9]+]]: tensor<?x64xf32>, %[[PM:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[N1:.*]], %[[S1:.*]] = vgcu.all_reduce_add_rms_norm %[[PA]], %[[H]]
// CHECK: %[[N2:.*]], %[[S2:.*]] = vgcu.all_reduce_add_rms_norm %[[PM]], %[[S1]]
// CHECK-NOT: vgcu.all_reduce %
// CHECK: return %[[N1]], %[[N2]], %[[S2]]
func.func @layer(%h: tensor<?x64xf32>, %pa: tensor<?x64xf32>, %pm: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %w2 = vgcu.param "model.layers.1.input_layernorm.weight" : tensor<64xf32>
  %ra = vgcu.all_reduce %pa : tensor<?x64xf32>
  %n1, %s1 = vgcu.add_rms_norm %ra, %h, %w1 {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %rm = vgcu.all_reduce %pm : tensor<?x64xf32>
  %n2, %s2 = vgcu.add_rms_norm %rm, %s1, %w2 {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n1, %n2, %s2 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// OPT's row-parallel out_proj feeding the LayerNorm before its MLP; weight and bias carry over.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[PART:[a-z0-9]+]]: tensor<?x64xf32>, %[[RES:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.decoder.layers.0.final_layer_norm.weight"
// CHECK: %[[B:.*]] = vgcu.param "model.decoder.layers.0.final_layer_norm.bias"
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.all_reduce_add_layer_norm %[[PART]], %[[RES]], %[[W]], %[[B]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.all_reduce %
// CHECK-NOT: vgcu.add_layer_norm
// CHECK: return %[[N]], %[[S]]
func.func @layer_norm(%partial: tensor<?x64xf32>, %res: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "model.decoder.layers.0.final_layer_norm.weight" : tensor<64xf32>
  %b = vgcu.param "model.decoder.layers.0.final_layer_norm.bias" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n, %s = vgcu.add_layer_norm %full, %res, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %n, %s : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// The reduced value has a second reader: the all_reduce must stay.
// CHECK-LABEL: func.func @no_fuse_all_reduce_second_use
// CHECK-NOT: vgcu.all_reduce_add_rms_norm
// CHECK: %[[FULL:.*]] = vgcu.all_reduce %
// CHECK: vgcu.add_rms_norm %[[FULL]]
// CHECK: vgcu.neg %[[FULL]]
// CHECK-NOT: vgcu.all_reduce_add_rms_norm
func.func @no_fuse_all_reduce_second_use(%partial: tensor<?x64xf32>, %res: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n, %s = vgcu.add_rms_norm %full, %res, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %other = vgcu.neg %full : tensor<?x64xf32>
  return %n, %other : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// The same reduced value is both operands of the norm's add: two uses.
// CHECK-LABEL: func.func @no_fuse_all_reduce_both_operands
// CHECK-NOT: vgcu.all_reduce_add_rms_norm
// CHECK: %[[FULL:.*]] = vgcu.all_reduce %
// CHECK: vgcu.add_rms_norm %[[FULL]], %[[FULL]]
// CHECK-NOT: vgcu.all_reduce_add_rms_norm
func.func @no_fuse_all_reduce_both_operands(%partial: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n, %s = vgcu.add_rms_norm %full, %full, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n : tensor<?x64xf32>
}

// -----

// An all_reduce feeding a plain rms_norm (no residual add) is not this fusion.
// CHECK-LABEL: func.func @no_fuse_plain_rms_norm
// CHECK-NOT: vgcu.all_reduce_add_rms_norm
// CHECK: %[[FULL:.*]] = vgcu.all_reduce %
// CHECK: vgcu.rms_norm %[[FULL]]
func.func @no_fuse_plain_rms_norm(%partial: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n = vgcu.rms_norm %full, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %n : tensor<?x64xf32>
}

// -----

// An add_layer_norm whose reduced operand is also returned keeps its all_reduce.
// CHECK-LABEL: func.func @no_fuse_layer_norm_second_use
// CHECK-NOT: vgcu.all_reduce_add_layer_norm
// CHECK: %[[FULL:.*]] = vgcu.all_reduce %
// CHECK: vgcu.add_layer_norm %[[FULL]]
// CHECK-NOT: vgcu.all_reduce_add_layer_norm
func.func @no_fuse_layer_norm_second_use(%partial: tensor<?x64xf32>, %res: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "model.decoder.final_layer_norm.weight" : tensor<64xf32>
  %b = vgcu.param "model.decoder.final_layer_norm.bias" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %n, %s = vgcu.add_layer_norm %full, %res, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %n, %full : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Gemma 2: the row-parallel projection's partial sum feeds the sandwich norms.
// CHECK-LABEL: func.func @all_reduce_norm_add_norm
// CHECK: vgcu.all_reduce_norm_add_norm %arg0, %arg1
// CHECK-NOT: vgcu.all_reduce %
func.func @all_reduce_norm_add_norm(%partial: tensor<?x64xf32>, %res: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "a.weight" : tensor<64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %normed, %sum = vgcu.norm_add_norm %full, %res, %w1, %w2 {epsilon = 1.0e-06 : f64, post_epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %normed, %sum : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Look-alike: a reduced residual is not the normed input; the all_reduce stays.
// CHECK-LABEL: func.func @reduced_residual_of_norm_add_norm
// CHECK: vgcu.all_reduce %
// CHECK: vgcu.norm_add_norm
func.func @reduced_residual_of_norm_add_norm(%x: tensor<?x64xf32>, %partial: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "a.weight" : tensor<64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64xf32>
  %full = vgcu.all_reduce %partial : tensor<?x64xf32>
  %normed, %sum = vgcu.norm_add_norm %x, %full, %w1, %w2 {epsilon = 1.0e-06 : f64, post_epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
  return %normed, %sum : tensor<?x64xf32>, tensor<?x64xf32>
}
