// Malformed IR is rejected by the parser with a located diagnostic and a non-zero exit code.
// RUN: vgcu-opt %s -split-input-file -verify-diagnostics
// RUN: not vgcu-opt %s -split-input-file 2>&1 | FileCheck %s

func.func @unknown_op(%x: tensor<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:8: error: custom op 'vgcu.frobnicate' is unknown
  // expected-error @+1 {{custom op 'vgcu.frobnicate' is unknown}}
  %0 = vgcu.frobnicate %x : tensor<?x64xf32>
  return
}

// -----

func.func @unknown_gcu_op(%x: memref<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:3: error: custom op 'gcu.frobnicate' is unknown
  // expected-error @+1 {{custom op 'gcu.frobnicate' is unknown}}
  gcu.frobnicate ins(%x : memref<?x64xf32>)
  return
}

// -----

func.func @unregistered_dialect() {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:12: error: operation being parsed with an unregistered dialect
  // expected-error @+1 {{operation being parsed with an unregistered dialect}}
  "foo.bar"() : () -> ()
  return
}

// -----

func.func @wrong_element_type_syntax(%x: tensor<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:34: error: expected non-function type
  // expected-error @+1 {{expected non-function type}}
  %0 = vgcu.exp %x : tensor<?x64xfoo>
  return
}

// -----

func.func @tensor_for_memref(%x: tensor<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:30: error: custom op 'gcu.all_reduce' invalid kind of type specified: expected builtin.memref, but found 'tensor<?x64xf32>'
  // expected-error @+1 {{custom op 'gcu.all_reduce' invalid kind of type specified: expected builtin.memref, but found 'tensor<?x64xf32>'}}
  gcu.all_reduce inouts(%x : tensor<?x64xf32>)
  return
}

// -----

func.func @undefined_value() {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:17: error: use of undeclared SSA value name
  // expected-error @+1 {{use of undeclared SSA value name}}
  %0 = vgcu.exp %missing : tensor<?x64xf32>
  return
}

// -----

func.func @missing_type(%x: tensor<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:19: error: expected ':'
  // expected-error @+1 {{expected ':'}}
  %0 = vgcu.exp %x
  return
}

// -----

func.func @incomplete_shard() {
  // CHECK: invalid-syntax.mlir:[[@LINE+2]]:56: error: expected ','
  // expected-error @+1 {{expected ','}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2>) : tensor<64xf32>
  return
}

// -----

func.func @unknown_enum_case(%x: tensor<?x64xf32>) {
  // CHECK: invalid-syntax.mlir:[[@LINE+3]]:21: error: custom op 'vgcu.gelu' expected one of [none, tanh] for GELU formula, got: exact
  // expected-error @+2 {{custom op 'vgcu.gelu' expected one of [none, tanh] for GELU formula, got: exact}}
  // expected-error @+1 {{custom op 'vgcu.gelu' invalid value for property approximate, expected GELU formula}}
  %0 = vgcu.gelu %x exact : tensor<?x64xf32>
  return
}
