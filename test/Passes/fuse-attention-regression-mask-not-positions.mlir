// vgcu-fuse-attention regression: a mask comparing a data-dependent tensor (not positions) is taken for the causal mask.
// RUN: vgcu-opt %s --vgcu-fuse-attention --canonicalize | FileCheck %s
// positionsAlong (passes/FuseAttention.cpp) accepts any rank-1 value behind the [1, S] / [T, 1]
// views, here the per-token mean of the activations (f32). vgcu.attention has no positions
// operand: lowering masks with @forward's positions, so fusing this changes the result. The
// positions must at least be an integer tensor, and should be the function's positions (what
// rotary_embedding uses); token ids ([1, S] ids > [T, 1] ids) are accepted the same way.

// CHECK-LABEL: func.func @no_attention_data_mask
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare gt, %{{.*}}, %{{.*}} : (tensor<1x?xf32>, tensor<?x1xf32>) -> tensor<?x?xi1>
// CHECK: vgcu.softmax
// CHECK-NOT: vgcu.attention
func.func @no_attention_data_mask(%x: tensor<?x32xf32>, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %d = vgcu.mean %x {dims = array<i64: -1>} : tensor<?x32xf32> -> tensor<?xf32>
  %kp = vgcu.reshape %d : tensor<?xf32> -> tensor<1x?xf32>
  %qp = vgcu.reshape %d : tensor<?xf32> -> tensor<?x1xf32>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xf32>, tensor<?x1xf32>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}
