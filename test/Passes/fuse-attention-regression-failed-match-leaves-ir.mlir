// vgcu-fuse-attention: a match that fails late must leave the IR as it found it. Here q is
// scaled before its reshape to heads (as OPT does), which the pattern folds into a new
// reshape; the values then have another head_dim (16) than the keys (8), so the match fails.
// It used to create that reshape first and fail afterwards, changing the IR in a failed
// pattern (the greedy driver then never converged and the pass failed).
// RUN: vgcu-opt %s --vgcu-fuse-attention | FileCheck %s

// CHECK-LABEL: func.func @values_of_another_head_dim
// CHECK-COUNT-3: vgcu.reshape
// CHECK-NOT: vgcu.reshape
// CHECK-NOT: vgcu.attention
// CHECK: return
func.func @values_of_another_head_dim(%pos: tensor<?xi64> {vgcu.name = "positions"}, %x: tensor<?x32xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x16xf32>) -> tensor<4x?x16xf32> {
  %qscale = vgcu.constant dense<0.353553385> : tensor<f32>
  %xs = vgcu.mul %x, %qscale : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %q = vgcu.reshape %xs : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scores : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x16xf32> -> tensor<4x?x16xf32>
  return %o : tensor<4x?x16xf32>
}
