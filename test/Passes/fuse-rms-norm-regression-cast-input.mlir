// vgcu-fuse-rms-norm regression: an RMSNorm whose input is itself produced by a cast is not fused.
// RUN: vgcu-opt %s --vgcu-fuse-rms-norm | FileCheck %s
// FuseRmsNormPattern takes the input as stripCasts(numerator), which strips *every* cast, not
// just the f32 upcast of the norm: here it reaches the f32 value %x32 that was rounded to bf16
// before the layer, finds its type (f32) differs from the result (bf16) and gives up. The
// input is %x, the operand of the one upcast. (Same for an f32 model whose hidden state comes
// from an upcast bf16 value: the norm has no casts of its own and stripCasts walks into the
// producer's.)

// CHECK-LABEL: func.func @rms_input_from_cast
// CHECK-SAME: (%[[X32:.*]]: tensor<?x64xf32>)
// CHECK: %[[X:.*]] = vgcu.cast %[[X32]] : tensor<?x64xf32> to tensor<?x64xbf16>
// CHECK: %[[N:.*]] = vgcu.rms_norm %[[X]], %{{.*}} : tensor<?x64xbf16>, tensor<64xbf16>
// CHECK: return %[[N]]
func.func @rms_input_from_cast(%x32: tensor<?x64xf32>) -> tensor<?x64xbf16> {
  %w = vgcu.param "model.norm.weight" : tensor<64xbf16>
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %x = vgcu.cast %x32 : tensor<?x64xf32> to tensor<?x64xbf16>
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
