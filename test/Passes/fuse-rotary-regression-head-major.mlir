// vgcu-fuse-rotary regression: a rotation of head-major [heads, T, head_dim] values produces invalid IR.
// RUN: vgcu-opt %s --vgcu-fuse-rotary --canonicalize | FileCheck %s
// HF's own layout is [batch, heads, T, head_dim]; without the batch dimension q is [4, T, 8] and
// cos/sin are [1, T, 8]. The pass matches the rotation but flattenHeads assumes [T, heads, ...]:
// it computes the width as 4 * (dynamic) and emits `vgcu.reshape : tensor<4x?x8xf32> ->
// tensor<4x0xf32>`, which fails verification ("a dynamic shape cannot be reshaped to a static
// one or back"), so vgcu-opt exits with an error. Expected: either leave it alone or fuse with
// the tokens first (transpose, rotary_embedding over [T, heads x head_dim], transpose back);
// never a rotary_embedding whose query has the heads as its first dimension.

// CHECK-LABEL: func.func @rotary_head_major
// CHECK-NOT: tensor<4x0x
// CHECK-NOT: vgcu.rotary_embedding %{{.*}} : tensor<?xi64>, tensor<4x
// CHECK: return
func.func @rotary_head_major(%pos: tensor<?xi64>, %q: tensor<4x?x8xf32>) -> tensor<4x?x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<1x?x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<1x?x8xf32>
  %lo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<4x?x8xf32> -> tensor<4x?x4xf32>
  %hi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<4x?x8xf32> -> tensor<4x?x4xf32>
  %neg = vgcu.neg %hi : tensor<4x?x4xf32>
  %rot = vgcu.concat %neg, %lo {dim = -1 : i64} : (tensor<4x?x4xf32>, tensor<4x?x4xf32>) -> tensor<4x?x8xf32>
  %xc = vgcu.mul %q, %c : (tensor<4x?x8xf32>, tensor<1x?x8xf32>) -> tensor<4x?x8xf32>
  %rs = vgcu.mul %rot, %s : (tensor<4x?x8xf32>, tensor<1x?x8xf32>) -> tensor<4x?x8xf32>
  %qout = vgcu.add %xc, %rs : (tensor<4x?x8xf32>, tensor<4x?x8xf32>) -> tensor<4x?x8xf32>
  return %qout : tensor<4x?x8xf32>
}
