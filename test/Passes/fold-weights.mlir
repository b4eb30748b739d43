// vgcu-fold-weights: computations on parameters and constants alone are outlined into @fold.N
// and read as `vgcu.param ... computed_by`; anything touching an activation stays.
// RUN: vgcu-opt %s --vgcu-fold-weights --split-input-file | FileCheck %s

// Gemma's (1 + w) norm scale: the add becomes a computed parameter the norm multiplies by.
// CHECK-LABEL: func.func @forward
// CHECK: %[[W:.*]] = vgcu.param "model.norm.weight.folded" computed_by @fold.0 : tensor<64xf32>
// CHECK-NOT: vgcu.add
// CHECK: vgcu.mul %[[W]], %arg2
// CHECK-LABEL: func.func private @fold.0
// CHECK-SAME: vgcu.weight_function = "model.norm.weight.folded"
// CHECK: %[[LEAF:.*]] = vgcu.param "model.norm.weight" : tensor<64xf32>
// CHECK: %[[ONE:.*]] = vgcu.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[SUM:.*]] = vgcu.add %[[LEAF]], %[[ONE]]
// CHECK: return %[[SUM]]
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>, %h: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %one = vgcu.constant dense<1.0> : tensor<f32>
  %scale = vgcu.add %w, %one : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  %y = vgcu.mul %scale, %h : (tensor<64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A chain (transpose, then scale) is one subgraph; the raw parameter, still used by the
// program, stays next to the computed one.
// CHECK-LABEL: func.func @forward
// CHECK-DAG: %[[RAW:.*]] = vgcu.param "lm_head.weight" : tensor<8x4xf32>
// CHECK-DAG: %[[T:.*]] = vgcu.param "lm_head.weight.folded" computed_by @fold.0 : tensor<4x8xf32>
// CHECK: vgcu.matmul %arg2, %[[T]]
// CHECK: vgcu.linear %arg3, %[[RAW]]
// CHECK-LABEL: func.func private @fold.0
// CHECK: vgcu.transpose
// CHECK: vgcu.mul
// CHECK-NOT: func.func private @fold.1
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>, %a: tensor<?x4xf32>, %b: tensor<?x4xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %w = vgcu.param "lm_head.weight" : tensor<8x4xf32>
  %half = vgcu.constant dense<0.5> : tensor<f32>
  %t = vgcu.transpose %w {permutation = array<i64: 1, 0>} : tensor<8x4xf32> -> tensor<4x8xf32>
  %s = vgcu.mul %t, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %x = vgcu.matmul %a, %s : tensor<?x4xf32>, tensor<4x8xf32> -> tensor<?x8xf32>
  %y = vgcu.linear %b, %w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  return %x, %y : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// Look-alikes: arithmetic on an activation, constants alone (canonicalization's), and an op the
// artifact writer does not evaluate (tanh) are left where they are; so is a function that is no
// model entry.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: computed_by
// CHECK: vgcu.add %arg2
// CHECK: vgcu.add %{{.*}}, %{{.*}} : (tensor<f32>, tensor<f32>)
// CHECK: vgcu.tanh
// CHECK-LABEL: func.func @helper
// CHECK-NOT: computed_by
// CHECK-NOT: func.func private @fold
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>, %h: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<f32>, tensor<64xf32>) {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %one = vgcu.constant dense<1.0> : tensor<f32>
  %x = vgcu.add %h, %one : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %two = vgcu.add %one, %one : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %t = vgcu.tanh %w : tensor<64xf32>
  return %x, %two, %t : tensor<?x64xf32>, tensor<f32>, tensor<64xf32>
}
func.func @helper() -> tensor<64xf32> {
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %one = vgcu.constant dense<1.0> : tensor<f32>
  %scale = vgcu.add %w, %one : (tensor<64xf32>, tensor<f32>) -> tensor<64xf32>
  return %scale : tensor<64xf32>
}

// -----

// A name already taken gets a numbered one; a computed parameter is not folded again.
// CHECK-LABEL: func.func @forward
// CHECK: vgcu.param "w.folded" computed_by @done
// CHECK: vgcu.param "w.folded.2" computed_by @fold.0
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>, %h: tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>) {
  %done = vgcu.param "w.folded" computed_by @done : tensor<4xf32>
  %w = vgcu.param "w" : tensor<4xf32>
  %n = vgcu.neg %w : tensor<4xf32>
  %x = vgcu.mul %h, %done : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %y = vgcu.mul %h, %n : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %x, %y : tensor<?x4xf32>, tensor<?x4xf32>
}
func.func private @done() -> tensor<4xf32> attributes {vgcu.weight_function = "w.folded"} {
  %w = vgcu.param "w" : tensor<4xf32>
  return %w : tensor<4xf32>
}
