// vgcu-fuse-norm-add-norm: an RMSNorm read only by a residual add + RMSNorm (Gemma 2's sandwich
// norms: the post-norm closing a block, the add, the pre-norm opening the next) becomes one
// vgcu.norm_add_norm; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-norm-add-norm --split-input-file | FileCheck %s

// Post-attention norm, residual add, pre-feed-forward norm; f32 weights over a bf16 model.
// CHECK-LABEL: func.func @sandwich
// CHECK-SAME: (%[[O:[a-z0-9]+]]: tensor<?x64xbf16>, %[[R:[a-z0-9]+]]: tensor<?x64xbf16>)
// CHECK-DAG: %[[POST:.*]] = vgcu.param "model.layers.0.post_attention_layernorm.weight.folded"
// CHECK-DAG: %[[PRE:.*]] = vgcu.param "model.layers.0.pre_feedforward_layernorm.weight.folded"
// CHECK: %[[N:.*]], %[[S:.*]] = vgcu.norm_add_norm %[[O]], %[[R]], %[[POST]], %[[PRE]] {epsilon = 9.9999999999999995E-7 : f64, post_epsilon = 9.9999999999999995E-7 : f64} : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
// CHECK-NOT: vgcu.rms_norm
// CHECK-NOT: vgcu.add_rms_norm
// CHECK: return %[[N]], %[[S]]
func.func @sandwich(%o: tensor<?x64xbf16>, %r: tensor<?x64xbf16>) -> (tensor<?x64xbf16>, tensor<?x64xbf16>) {
  %post = vgcu.param "model.layers.0.post_attention_layernorm.weight.folded" computed_by @fold.0 : tensor<64xf32>
  %pre = vgcu.param "model.layers.0.pre_feedforward_layernorm.weight.folded" computed_by @fold.1 : tensor<64xf32>
  %n = vgcu.rms_norm %o, %post {epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xf32>
  %normed, %sum = vgcu.add_rms_norm %n, %r, %pre {epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xf32>
  return %normed, %sum : tensor<?x64xbf16>, tensor<?x64xbf16>
}
func.func private @fold.0() -> tensor<64xf32>
func.func private @fold.1() -> tensor<64xf32>

// -----

// The normed value as the add's second operand (the residual first) fuses the same way.
// CHECK-LABEL: func.func @normed_second
// CHECK: vgcu.norm_add_norm %arg0, %arg1
func.func @normed_second(%o: tensor<?x64xf32>, %r: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "a.weight" : tensor<64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64xf32>
  %n = vgcu.rms_norm %o, %w1 {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %normed, %sum = vgcu.add_rms_norm %r, %n, %w2 {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %normed, %sum : tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Look-alike: the closing norm's output is read elsewhere too, so it must exist on its own.
// CHECK-LABEL: func.func @norm_used_twice
// CHECK: vgcu.rms_norm
// CHECK: vgcu.add_rms_norm
// CHECK-NOT: vgcu.norm_add_norm
func.func @norm_used_twice(%o: tensor<?x64xf32>, %r: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w1 = vgcu.param "a.weight" : tensor<64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64xf32>
  %n = vgcu.rms_norm %o, %w1 {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %normed, %sum = vgcu.add_rms_norm %n, %r, %w2 {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %normed, %sum, %n : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Look-alike: a plain add before the norm (Llama's layer) is vgcu-fuse-add-rms-norm's business.
// CHECK-LABEL: func.func @plain_residual
// CHECK-NOT: vgcu.norm_add_norm
// CHECK: vgcu.add_rms_norm
func.func @plain_residual(%o: tensor<?x64xf32>, %r: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "b.weight" : tensor<64xf32>
  %normed, %sum = vgcu.add_rms_norm %o, %r, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return %normed, %sum : tensor<?x64xf32>, tensor<?x64xf32>
}
