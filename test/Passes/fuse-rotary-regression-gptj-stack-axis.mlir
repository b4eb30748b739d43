// vgcu-fuse-rotary regression: a GPT-J look-alike whose "stack" is not interleaving the pairs is fused as GPT-J.
// RUN: vgcu-opt %s --vgcu-fuse-rotary --canonicalize | FileCheck %s
// isRotation (passes/FuseRotary.cpp) checks concat(reshape(-x[..., 1::2]), reshape(x[..., ::2]))
// along the last dim followed by a reshape, but not that the reshapes unsqueezed a trailing size-1
// dimension ([T, H, 4] -> [T, H, 4, 1]). Unsqueezed in front ([T, H, 1, 4]) the concat gives
// [-x1, -x3, -x5, -x7, x0, x2, x4, x6] per head -- not GPT-J's [-x1, x0, -x3, x2, ...] -- yet
// the pass replaces it with `rotary_embedding ... gptj`, changing the numbers.

// CHECK-LABEL: func.func @no_rotary_gptj_stack_wrong_axis
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.concat %{{.*}}, %{{.*}} {dim = -1 : i64} : (tensor<?x4x1x4xf32>, tensor<?x4x1x4xf32>) -> tensor<?x4x1x8xf32>
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_gptj_stack_wrong_axis(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %f3 = vgcu.reshape %freqs : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %f2 = vgcu.broadcast %f3 : tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %emb = vgcu.reshape %f2 : tensor<?x4x2xf32> -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qeven = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qodd = vgcu.slice %q {dim = -1 : i64, start = 1 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qnodd = vgcu.neg %qodd : tensor<?x4x4xf32>
  %qa = vgcu.reshape %qnodd : tensor<?x4x4xf32> -> tensor<?x4x1x4xf32>
  %qb = vgcu.reshape %qeven : tensor<?x4x4xf32> -> tensor<?x4x1x4xf32>
  %qst = vgcu.concat %qa, %qb {dim = -1 : i64} : (tensor<?x4x1x4xf32>, tensor<?x4x1x4xf32>) -> tensor<?x4x1x8xf32>
  %qrot = vgcu.reshape %qst : tensor<?x4x1x8xf32> -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}
