// vgcu-fuse-soft-cap: tanh(x / c) · c with one positive scalar constant becomes vgcu.soft_cap;
// look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-soft-cap --split-input-file | FileCheck %s

// Gemma 2's logits: logits / 30; tanh; * 30 (either operand order of the multiply).
// CHECK-LABEL: func.func @logits
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x250xbf16>)
// CHECK: %[[A:.*]] = vgcu.soft_cap %[[X]] {cap = 3.000000e+01 : f64} : tensor<?x250xbf16>
// CHECK: %[[B:.*]] = vgcu.soft_cap %[[X]] {cap = 5.000000e+01 : f64} : tensor<?x250xbf16>
// CHECK-NOT: vgcu.tanh
// CHECK: return %[[A]], %[[B]]
func.func @logits(%x: tensor<?x250xbf16>) -> (tensor<?x250xbf16>, tensor<?x250xbf16>) {
  %c = vgcu.constant dense<3.0e+01> : tensor<bf16>
  %d = vgcu.div %x, %c : (tensor<?x250xbf16>, tensor<bf16>) -> tensor<?x250xbf16>
  %t = vgcu.tanh %d : tensor<?x250xbf16>
  %y = vgcu.mul %t, %c : (tensor<?x250xbf16>, tensor<bf16>) -> tensor<?x250xbf16>
  %c2 = vgcu.constant dense<5.0e+01> : tensor<bf16>
  %d2 = vgcu.div %x, %c2 : (tensor<?x250xbf16>, tensor<bf16>) -> tensor<?x250xbf16>
  %t2 = vgcu.tanh %d2 : tensor<?x250xbf16>
  %z = vgcu.mul %c2, %t2 : (tensor<bf16>, tensor<?x250xbf16>) -> tensor<?x250xbf16>
  return %y, %z : tensor<?x250xbf16>, tensor<?x250xbf16>
}

// -----

// Look-alikes: different constants inside and outside, and a tanh scaled by a tensor.
// CHECK-LABEL: func.func @no_soft_cap
// CHECK-NOT: vgcu.soft_cap
// CHECK: vgcu.tanh
// CHECK-NOT: vgcu.soft_cap
func.func @no_soft_cap(%x: tensor<?x8xf32>, %s: tensor<?x8xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %c = vgcu.constant dense<3.0e+01> : tensor<f32>
  %e = vgcu.constant dense<2.0e+01> : tensor<f32>
  %d = vgcu.div %x, %c : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %t = vgcu.tanh %d : tensor<?x8xf32>
  %y = vgcu.mul %t, %e : (tensor<?x8xf32>, tensor<f32>) -> tensor<?x8xf32>
  %z = vgcu.mul %t, %s : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %y, %z : tensor<?x8xf32>, tensor<?x8xf32>
}
