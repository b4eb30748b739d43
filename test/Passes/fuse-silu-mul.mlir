// vgcu-fuse-silu-mul: act(gate) · up (SiLU, x·sigmoid(x), GELU) becomes vgcu.silu_and_mul / gelu_and_mul; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-silu-mul --split-input-file | FileCheck %s

// silu(x[..., :64]) * x[..., 64:]: the two halves of one value, no concat needed.
// CHECK-LABEL: func.func @silu_halves
// CHECK-SAME: (%[[X:.*]]: tensor<?x128xf32>)
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[X]] : tensor<?x128xf32> -> tensor<?x64xf32>
// CHECK-NOT: vgcu.concat
// CHECK-NOT: vgcu.silu %
// CHECK: return %[[Y]]
func.func @silu_halves(%x: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %a = vgcu.slice %x {dim = -1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %b = vgcu.slice %x {dim = -1 : i64, start = 64 : i64, end = 128 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %s = vgcu.silu %a : tensor<?x64xf32>
  %y = vgcu.mul %s, %b : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// The halves sliced with a positive dim, the up half on the left of the multiply, bf16.
// CHECK-LABEL: func.func @silu_halves_up_first
// CHECK-SAME: (%[[X:.*]]: tensor<?x128xbf16>)
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[X]] : tensor<?x128xbf16> -> tensor<?x64xbf16>
// CHECK: return %[[Y]]
func.func @silu_halves_up_first(%x: tensor<?x128xbf16>) -> tensor<?x64xbf16> {
  %a = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xbf16> -> tensor<?x64xbf16>
  %b = vgcu.slice %x {dim = 1 : i64, start = 64 : i64, end = 128 : i64} : tensor<?x128xbf16> -> tensor<?x64xbf16>
  %s = vgcu.silu %a : tensor<?x64xbf16>
  %y = vgcu.mul %b, %s : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// GatedMLP: act_fn(gate_proj(x)) * up_proj(x) on two projections → silu_and_mul of their
// concatenation (gate first), which vgcu-pack-projections then turns into one gate_up linear.
// CHECK-LABEL: func.func @silu_two_projections
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[G:.*]] = vgcu.linear %[[X]], %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK: %[[U:.*]] = vgcu.linear %[[X]], %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK: %[[GU:.*]] = vgcu.concat %[[G]], %[[U]] {dim = 1 : i64} : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x256xf32>
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[GU]] : tensor<?x256xf32> -> tensor<?x128xf32>
// CHECK-NOT: vgcu.silu %
// CHECK: return %[[Y]]
func.func @silu_two_projections(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %s = vgcu.silu %g : tensor<?x128xf32>
  %y = vgcu.mul %s, %u : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// -----

// Two separate values with up * silu(gate): the concat still puts the gate first.
// CHECK-LABEL: func.func @silu_two_values_up_first
// CHECK-SAME: (%[[G:[a-z0-9]+]]: tensor<?x32xf32>, %[[U:[a-z0-9]+]]: tensor<?x32xf32>)
// CHECK: %[[GU:.*]] = vgcu.concat %[[G]], %[[U]] {dim = 1 : i64}
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[GU]] : tensor<?x64xf32> -> tensor<?x32xf32>
// CHECK: return %[[Y]]
func.func @silu_two_values_up_first(%g: tensor<?x32xf32>, %u: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %s = vgcu.silu %g : tensor<?x32xf32>
  %y = vgcu.mul %u, %s : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// Rank 3 values: the concat is along the last dimension.
// CHECK-LABEL: func.func @silu_rank3
// CHECK-SAME: (%[[G:[a-z0-9]+]]: tensor<2x?x32xf32>, %[[U:[a-z0-9]+]]: tensor<2x?x32xf32>)
// CHECK: %[[GU:.*]] = vgcu.concat %[[G]], %[[U]] {dim = 2 : i64} : (tensor<2x?x32xf32>, tensor<2x?x32xf32>) -> tensor<2x?x64xf32>
// CHECK: vgcu.silu_and_mul %[[GU]] : tensor<2x?x64xf32> -> tensor<2x?x32xf32>
func.func @silu_rank3(%g: tensor<2x?x32xf32>, %u: tensor<2x?x32xf32>) -> tensor<2x?x32xf32> {
  %s = vgcu.silu %g : tensor<2x?x32xf32>
  %y = vgcu.mul %s, %u : (tensor<2x?x32xf32>, tensor<2x?x32xf32>) -> tensor<2x?x32xf32>
  return %y : tensor<2x?x32xf32>
}

// -----

// variant sigmoid_silu: (g * sigmoid(g)) * u.
// CHECK-LABEL: func.func @sigmoid_silu
// CHECK-SAME: (%[[G:[a-z0-9]+]]: tensor<?x32xf32>, %[[U:[a-z0-9]+]]: tensor<?x32xf32>)
// CHECK: %[[GU:.*]] = vgcu.concat %[[G]], %[[U]]
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[GU]]
// CHECK-NOT: vgcu.sigmoid
// CHECK: return %[[Y]]
func.func @sigmoid_silu(%g: tensor<?x32xf32>, %u: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %sg = vgcu.sigmoid %g : tensor<?x32xf32>
  %s = vgcu.mul %g, %sg : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %y = vgcu.mul %s, %u : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// sigmoid_silu on the halves of one value, with sigmoid(g) * g operand order.
// CHECK-LABEL: func.func @sigmoid_silu_halves
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>)
// CHECK: %[[Y:.*]] = vgcu.silu_and_mul %[[X]] : tensor<?x64xbf16> -> tensor<?x32xbf16>
// CHECK-NOT: vgcu.sigmoid
// CHECK: return %[[Y]]
func.func @sigmoid_silu_halves(%x: tensor<?x64xbf16>) -> tensor<?x32xbf16> {
  %g = vgcu.slice %x {dim = -1 : i64, start = 0 : i64, end = 32 : i64} : tensor<?x64xbf16> -> tensor<?x32xbf16>
  %u = vgcu.slice %x {dim = -1 : i64, start = 32 : i64, end = 64 : i64} : tensor<?x64xbf16> -> tensor<?x32xbf16>
  %sg = vgcu.sigmoid %g : tensor<?x32xbf16>
  %s = vgcu.mul %sg, %g : (tensor<?x32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>
  %y = vgcu.mul %s, %u : (tensor<?x32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// -----

// GELU (erf) on the halves of one value.
// CHECK-LABEL: func.func @gelu_halves
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[Y:.*]] = vgcu.gelu_and_mul %[[X]] none : tensor<?x64xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.gelu %
// CHECK: return %[[Y]]
func.func @gelu_halves(%x: tensor<?x64xf32>) -> tensor<?x32xf32> {
  %g = vgcu.slice %x {dim = -1 : i64, start = 0 : i64, end = 32 : i64} : tensor<?x64xf32> -> tensor<?x32xf32>
  %u = vgcu.slice %x {dim = -1 : i64, start = 32 : i64, end = 64 : i64} : tensor<?x64xf32> -> tensor<?x32xf32>
  %a = vgcu.gelu %g none : tensor<?x32xf32>
  %y = vgcu.mul %a, %u : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// GELU with the tanh approximation (gelu_pytorch_tanh) on two projections.
// CHECK-LABEL: func.func @gelu_tanh_two_values
// CHECK-SAME: (%[[G:[a-z0-9]+]]: tensor<?x32xf32>, %[[U:[a-z0-9]+]]: tensor<?x32xf32>)
// CHECK: %[[GU:.*]] = vgcu.concat %[[G]], %[[U]]
// CHECK: %[[Y:.*]] = vgcu.gelu_and_mul %[[GU]] tanh : tensor<?x64xf32> -> tensor<?x32xf32>
// CHECK: return %[[Y]]
func.func @gelu_tanh_two_values(%g: tensor<?x32xf32>, %u: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %a = vgcu.gelu %g tanh : tensor<?x32xf32>
  %y = vgcu.mul %a, %u : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes
//===----------------------------------------------------------------------===//

// up is [tokens, 1]: the multiply broadcasts, there is no [gate, up] value to feed the op.
// CHECK-LABEL: func.func @no_fuse_up_broadcasts
// CHECK-NOT: vgcu.silu_and_mul
// CHECK: %[[S:.*]] = vgcu.silu %
// CHECK: vgcu.mul %[[S]], %{{.*}} : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
// CHECK-NOT: vgcu.silu_and_mul
func.func @no_fuse_up_broadcasts(%g: tensor<?x32xf32>, %u: tensor<?x1xf32>) -> tensor<?x32xf32> {
  %s = vgcu.silu %g : tensor<?x32xf32>
  %y = vgcu.mul %s, %u : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// up is a [32] vector (a per-channel gain), broadcast over the tokens.
// CHECK-LABEL: func.func @no_fuse_up_channel_vector
// CHECK-NOT: vgcu.silu_and_mul
// CHECK: %[[S:.*]] = vgcu.silu %
// CHECK: vgcu.mul %[[S]], %{{.*}} : (tensor<?x32xf32>, tensor<32xf32>) -> tensor<?x32xf32>
// CHECK-NOT: vgcu.silu_and_mul
func.func @no_fuse_up_channel_vector(%g: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %u = vgcu.param "model.layers.0.mlp.scale" : tensor<32xf32>
  %s = vgcu.silu %g : tensor<?x32xf32>
  %y = vgcu.mul %s, %u : (tensor<?x32xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// gate is [tokens, 1] and broadcasts against up.
// CHECK-LABEL: func.func @no_fuse_gate_broadcasts
// CHECK-NOT: vgcu.silu_and_mul
// CHECK: %[[S:.*]] = vgcu.silu %{{.*}} : tensor<?x1xf32>
// CHECK: vgcu.mul %[[S]], %{{.*}} : (tensor<?x1xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
// CHECK-NOT: vgcu.silu_and_mul
func.func @no_fuse_gate_broadcasts(%g: tensor<?x1xf32>, %u: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %s = vgcu.silu %g : tensor<?x1xf32>
  %y = vgcu.mul %s, %u : (tensor<?x1xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// silu on the SECOND half times the FIRST half. This is not silu_and_mul(x) (which is
// silu(first) · second); it must not become that. The pass treats the two slices as two
// separate values and concatenates them in gate/up order, which is exact:
// silu_and_mul(concat(x[64:], x[:64])) = silu(x[64:]) · x[:64].
// CHECK-LABEL: func.func @no_direct_fuse_silu_second_half
// CHECK-SAME: (%[[X:.*]]: tensor<?x128xf32>)
// CHECK-NOT: vgcu.silu_and_mul %[[X]]
// CHECK-DAG: %[[LO:.*]] = vgcu.slice %[[X]] {dim = -1 : i64, end = 64 : i64, start = 0 : i64}
// CHECK-DAG: %[[HI:.*]] = vgcu.slice %[[X]] {dim = -1 : i64, end = 128 : i64, start = 64 : i64}
// CHECK: %[[SWAPPED:.*]] = vgcu.concat %[[HI]], %[[LO]]
// CHECK: vgcu.silu_and_mul %[[SWAPPED]]
// CHECK-NOT: vgcu.silu_and_mul %[[X]]
func.func @no_direct_fuse_silu_second_half(%x: tensor<?x128xf32>) -> tensor<?x64xf32> {
  %a = vgcu.slice %x {dim = -1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %b = vgcu.slice %x {dim = -1 : i64, start = 64 : i64, end = 128 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %s = vgcu.silu %b : tensor<?x64xf32>
  %y = vgcu.mul %s, %a : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// Slices of the token dimension (dim 0), not the features: not the halves of a gate_up value.
// Each is an ordinary value, so they are concatenated along the features.
// CHECK-LABEL: func.func @no_direct_fuse_halves_along_tokens
// CHECK-SAME: (%[[X:.*]]: tensor<8x32xf32>)
// CHECK-NOT: vgcu.silu_and_mul %[[X]]
// CHECK: vgcu.concat %{{.*}}, %{{.*}} {dim = 1 : i64} : (tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x64xf32>
// CHECK-NOT: vgcu.silu_and_mul %[[X]]
func.func @no_direct_fuse_halves_along_tokens(%x: tensor<8x32xf32>) -> tensor<4x32xf32> {
  %a = vgcu.slice %x {dim = 0 : i64, start = 0 : i64, end = 4 : i64} : tensor<8x32xf32> -> tensor<4x32xf32>
  %b = vgcu.slice %x {dim = 0 : i64, start = 4 : i64, end = 8 : i64} : tensor<8x32xf32> -> tensor<4x32xf32>
  %s = vgcu.silu %a : tensor<4x32xf32>
  %y = vgcu.mul %s, %b : (tensor<4x32xf32>, tensor<4x32xf32>) -> tensor<4x32xf32>
  return %y : tensor<4x32xf32>
}

// -----

// relu(g) * u: no relu_and_mul op; and x * sigmoid(y) with y != x is not SiLU.
// CHECK-LABEL: func.func @no_fuse_other_activations
// CHECK-NOT: vgcu.silu_and_mul
// CHECK-NOT: vgcu.silu %
// CHECK: vgcu.relu
// CHECK: vgcu.mul
// CHECK: vgcu.sigmoid
// CHECK: vgcu.mul
// CHECK: vgcu.mul
// CHECK-NOT: vgcu.silu
func.func @no_fuse_other_activations(%g: tensor<?x32xf32>, %u: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>) {
  %r = vgcu.relu %g : tensor<?x32xf32>
  %y1 = vgcu.mul %r, %u : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %sg = vgcu.sigmoid %u : tensor<?x32xf32>
  %gs = vgcu.mul %g, %sg : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %y2 = vgcu.mul %gs, %u : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y1, %y2 : tensor<?x32xf32>, tensor<?x32xf32>
}
