// vgcu-fuse-rms-norm gap: the `x * (1 / sqrt(var + eps))` spelling Passes.td promises ("`rsqrt` or `1 / sqrt`") is not fused.
// RUN: vgcu-opt %s --vgcu-fuse-rms-norm | FileCheck %s
// matchNormalization (passes/FuseRmsNorm.cpp) knows `h * rsqrt(d)` and `h / sqrt(d)` (the
// reference model's sqrt_div variant, tested in fuse-rms-norm.mlir) but not a multiply by the
// reciprocal, `h * (1.0 / torch.sqrt(d))` (or torch.reciprocal(torch.sqrt(d))).

// CHECK-LABEL: func.func @rms_reciprocal_sqrt
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK-NOT: vgcu.sqrt
// CHECK: return %[[N]]
func.func @rms_reciprocal_sqrt(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %one = vgcu.constant dense<1.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %sq = vgcu.pow %x, %two : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %var = vgcu.mean %sq {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %ve = vgcu.add %var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %s = vgcu.sqrt %ve : tensor<?x1xf32>
  %r = vgcu.div %one, %s : (tensor<f32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %h = vgcu.mul %x, %r : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %y = vgcu.mul %w, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
