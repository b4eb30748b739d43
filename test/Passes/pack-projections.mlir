// vgcu-pack-projections: q/k/v and gate/up linears sharing an input become one packed linear (qkv_proj / gate_up_proj); other linears stay.
// RUN: vgcu-opt %s --vgcu-pack-projections --split-input-file | FileCheck %s
// RUN: vgcu-opt %s --vgcu-pack-projections --canonicalize --split-input-file | FileCheck %s --check-prefix=CANON

// Llama attention: q/k/v without biases, GQA widths (q 64, k 32, v 32).
// CHECK-LABEL: func.func @qkv_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.self_attn.qkv_proj.weight" : tensor<128x64xf32>
// CHECK: %[[QKV:.*]] = vgcu.linear %[[X]], %[[W]] {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 32, 32>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK-DAG: %[[Q:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 64 : i64, start = 0 : i64{{.*}}} : tensor<?x128xf32> -> tensor<?x64xf32>
// CHECK-DAG: %[[K:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 96 : i64, start = 64 : i64{{.*}}} : tensor<?x128xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[V:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 128 : i64, start = 96 : i64{{.*}}} : tensor<?x128xf32> -> tensor<?x32xf32>
// CHECK-NOT: q_proj.weight
// CHECK-NOT: vgcu.linear
// CHECK: return %[[Q]], %[[K]], %[[V]]
func.func @qkv_no_bias(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %wq = vgcu.param "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
  %wk = vgcu.param "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
  %wv = vgcu.param "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32>
  %q = vgcu.linear %x, %wq : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %k = vgcu.linear %x, %wk : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %v = vgcu.linear %x, %wv : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %q, %k, %v : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// Qwen2: q/k/v with biases; the packed bias is named like the packed weight.
// CHECK-LABEL: func.func @qkv_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>)
// CHECK-DAG: %[[W:.*]] = vgcu.param "model.layers.3.self_attn.qkv_proj.weight" : tensor<128x64xbf16>
// CHECK-DAG: %[[B:.*]] = vgcu.param "model.layers.3.self_attn.qkv_proj.bias" : tensor<128xbf16>
// CHECK: %[[QKV:.*]] = vgcu.linear %[[X]], %[[W]], %[[B]] {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 32, 32>} : tensor<?x64xbf16>, tensor<128x64xbf16>, tensor<128xbf16> -> tensor<?x128xbf16>
// CHECK-NOT: vgcu.linear
// CHECK-NOT: _proj.bias"
// CHECK: return
func.func @qkv_bias(%x: tensor<?x64xbf16>) -> (tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>) {
  %wq = vgcu.param "model.layers.3.self_attn.q_proj.weight" : tensor<64x64xbf16>
  %bq = vgcu.param "model.layers.3.self_attn.q_proj.bias" : tensor<64xbf16>
  %wk = vgcu.param "model.layers.3.self_attn.k_proj.weight" : tensor<32x64xbf16>
  %bk = vgcu.param "model.layers.3.self_attn.k_proj.bias" : tensor<32xbf16>
  %wv = vgcu.param "model.layers.3.self_attn.v_proj.weight" : tensor<32x64xbf16>
  %bv = vgcu.param "model.layers.3.self_attn.v_proj.bias" : tensor<32xbf16>
  %q = vgcu.linear %x, %wq, %bq : tensor<?x64xbf16>, tensor<64x64xbf16>, tensor<64xbf16> -> tensor<?x64xbf16>
  %k = vgcu.linear %x, %wk, %bk : tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16> -> tensor<?x32xbf16>
  %v = vgcu.linear %x, %wv, %bv : tensor<?x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16> -> tensor<?x32xbf16>
  return %q, %k, %v : tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16>
}

// -----

// OPT declares k, v, q in that order (and the trace follows it): the packing is still in
// checkpoint q, k, v order, placed at the first of them.
// CHECK-LABEL: func.func @qkv_program_order_kvq
// CHECK-SAME: (%[[X:.*]]: tensor<?x32xf32>)
// CHECK: %[[QKV:.*]] = vgcu.linear %[[X]], %{{.*}}, %{{.*}} {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 32, 32, 32>} : tensor<?x32xf32>, tensor<96x32xf32>, tensor<96xf32> -> tensor<?x96xf32>
// CHECK-DAG: %[[Q:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 32 : i64, start = 0 : i64{{.*}}}
// CHECK-DAG: %[[K:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 64 : i64, start = 32 : i64{{.*}}}
// CHECK-DAG: %[[V:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 96 : i64, start = 64 : i64{{.*}}}
// CHECK: return %[[K]], %[[V]], %[[Q]]
func.func @qkv_program_order_kvq(%x: tensor<?x32xf32>) -> (tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %wk = vgcu.param "model.decoder.layers.0.self_attn.k_proj.weight" : tensor<32x32xf32>
  %bk = vgcu.param "model.decoder.layers.0.self_attn.k_proj.bias" : tensor<32xf32>
  %k = vgcu.linear %x, %wk, %bk : tensor<?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  %wv = vgcu.param "model.decoder.layers.0.self_attn.v_proj.weight" : tensor<32x32xf32>
  %bv = vgcu.param "model.decoder.layers.0.self_attn.v_proj.bias" : tensor<32xf32>
  %v = vgcu.linear %x, %wv, %bv : tensor<?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  %wq = vgcu.param "model.decoder.layers.0.self_attn.q_proj.weight" : tensor<32x32xf32>
  %bq = vgcu.param "model.decoder.layers.0.self_attn.q_proj.bias" : tensor<32xf32>
  %q = vgcu.linear %x, %wq, %bq : tensor<?x32xf32>, tensor<32x32xf32>, tensor<32xf32> -> tensor<?x32xf32>
  return %k, %v, %q : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// GatedMLP gate/up without biases.
// CHECK-LABEL: func.func @gate_up_no_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.mlp.gate_up_proj.weight" : tensor<256x64xf32>
// CHECK: %[[GU:.*]] = vgcu.linear %[[X]], %[[W]] {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 128, 128>} : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
// CHECK-DAG: %[[G:.*]] = vgcu.slice %[[GU]] {dim = 1 : i64, end = 128 : i64, start = 0 : i64{{.*}}}
// CHECK-DAG: %[[U:.*]] = vgcu.slice %[[GU]] {dim = 1 : i64, end = 256 : i64, start = 128 : i64{{.*}}}
// CHECK: return %[[G]], %[[U]]
func.func @gate_up_no_bias(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Llama with mlp_bias: gate/up with biases, up declared first.
// CHECK-LABEL: func.func @gate_up_bias
// CHECK-DAG: %[[W:.*]] = vgcu.param "model.layers.1.mlp.gate_up_proj.weight" : tensor<256x64xf32>
// CHECK-DAG: %[[B:.*]] = vgcu.param "model.layers.1.mlp.gate_up_proj.bias" : tensor<256xf32>
// CHECK: vgcu.linear %{{.*}}, %[[W]], %[[B]] {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 128, 128>}
// CHECK-NOT: vgcu.linear
func.func @gate_up_bias(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wu = vgcu.param "model.layers.1.mlp.up_proj.weight" : tensor<128x64xf32>
  %bu = vgcu.param "model.layers.1.mlp.up_proj.bias" : tensor<128xf32>
  %wg = vgcu.param "model.layers.1.mlp.gate_proj.weight" : tensor<128x64xf32>
  %bg = vgcu.param "model.layers.1.mlp.gate_proj.bias" : tensor<128xf32>
  %u = vgcu.linear %x, %wu, %bu : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %g = vgcu.linear %x, %wg, %bg : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// What vgcu-fuse-silu-mul leaves for the MLP, silu_and_mul(concat(gate, up)): a concatenation
// of exactly the packed outputs, in packing order, is the packed linear itself. The pass leaves
// concat(slice, slice) and the concat folder removes it, so this is checked after --canonicalize
// (the pipeline runs it right after packing).
// CHECK-LABEL: func.func @gate_up_feeding_silu_and_mul
// CHECK: vgcu.linear {{.*}}packed_modules = ["gate_proj", "up_proj"]
// CHECK: vgcu.silu_and_mul
// CANON-LABEL: func.func @gate_up_feeding_silu_and_mul
// CANON-SAME: (%[[X:.*]]: tensor<?x64xf32>)
// CANON: %[[GU:.*]] = vgcu.linear %[[X]], %{{.*}} {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 128, 128>}
// CANON-NOT: vgcu.concat
// CANON-NOT: vgcu.slice
// CANON: %[[Y:.*]] = vgcu.silu_and_mul %[[GU]] : tensor<?x256xf32> -> tensor<?x128xf32>
// CANON-NOT: vgcu.linear
// CANON: return %[[Y]]
func.func @gate_up_feeding_silu_and_mul(%x: tensor<?x64xf32>) -> tensor<?x128xf32> {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %gu = vgcu.concat %g, %u {dim = 1 : i64} : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x256xf32>
  %y = vgcu.silu_and_mul %gu : tensor<?x256xf32> -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// -----

// Two layers: each layer's q/k/v pack separately.
// CHECK-LABEL: func.func @two_layers
// CHECK: vgcu.param "model.layers.0.self_attn.qkv_proj.weight"
// CHECK: vgcu.linear {{.*}}packed_modules = ["q_proj", "k_proj"
// CHECK: vgcu.param "model.layers.1.self_attn.qkv_proj.weight"
// CHECK: vgcu.linear {{.*}}packed_modules = ["q_proj", "k_proj"
// CHECK-NOT: vgcu.linear
func.func @two_layers(%x0: tensor<?x64xf32>, %x1: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %wq0 = vgcu.param "model.layers.0.self_attn.q_proj.weight" : tensor<64x64xf32>
  %wk0 = vgcu.param "model.layers.0.self_attn.k_proj.weight" : tensor<32x64xf32>
  %wv0 = vgcu.param "model.layers.0.self_attn.v_proj.weight" : tensor<32x64xf32>
  %q0 = vgcu.linear %x0, %wq0 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %k0 = vgcu.linear %x0, %wk0 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %v0 = vgcu.linear %x0, %wv0 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %wq1 = vgcu.param "model.layers.1.self_attn.q_proj.weight" : tensor<64x64xf32>
  %wk1 = vgcu.param "model.layers.1.self_attn.k_proj.weight" : tensor<32x64xf32>
  %wv1 = vgcu.param "model.layers.1.self_attn.v_proj.weight" : tensor<32x64xf32>
  %q1 = vgcu.linear %x1, %wq1 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %k1 = vgcu.linear %x1, %wk1 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %v1 = vgcu.linear %x1, %wv1 : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  return %q0, %k0, %v0, %q1, %k1, %v1 : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// Same input, but the weights belong to different parent modules (two layers' MLPs).
// CHECK-LABEL: func.func @no_pack_different_parents
// CHECK-NOT: packed_modules
// CHECK: vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK: vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK-NOT: packed_modules
func.func @no_pack_different_parents(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.1.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Same input and parent, but only one of them has a bias.
// CHECK-LABEL: func.func @no_pack_bias_mismatch
// CHECK-NOT: packed_modules
// CHECK: vgcu.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
// CHECK: vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK-NOT: packed_modules
func.func @no_pack_bias_mismatch(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %bg = vgcu.param "model.layers.0.mlp.gate_proj.bias" : tensor<128xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg, %bg : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Sibling modules, but different inputs (gate reads x, up reads y).
// CHECK-LABEL: func.func @no_pack_different_inputs
// CHECK-NOT: packed_modules
// CHECK: vgcu.linear
// CHECK: vgcu.linear
// CHECK-NOT: packed_modules
func.func @no_pack_different_inputs(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %y, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Weights that are not named parameters (function arguments): nothing to name the packing by.
// CHECK-LABEL: func.func @no_pack_unnamed_weights
// CHECK-NOT: packed_modules
// CHECK: vgcu.linear
// CHECK: vgcu.linear
// CHECK-NOT: packed_modules
func.func @no_pack_unnamed_weights(%x: tensor<?x64xf32>, %wg: tensor<128x64xf32>, %wu: tensor<128x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %g = vgcu.linear %x, %wg : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// A bias that is not the module's own ".bias" parameter.
// CHECK-LABEL: func.func @no_pack_foreign_bias
// CHECK-NOT: packed_modules
// CHECK: vgcu.linear
// CHECK: vgcu.linear
// CHECK-NOT: packed_modules
func.func @no_pack_foreign_bias(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<128x64xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<128x64xf32>
  %b = vgcu.param "model.layers.0.mlp.shared.bias" : tensor<128xf32>
  %g = vgcu.linear %x, %wg, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %u = vgcu.linear %x, %wu, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  return %g, %u : tensor<?x128xf32>, tensor<?x128xf32>
}

// -----

// Phi-3: the checkpoint packs q/k/v in one qkv_proj; its output cut into three contiguous
// slices records the packing (named after the known q/k/v parts), so sharding splits each.
// CHECK-LABEL: func.func @packed_parameter_slices
// CHECK: vgcu.linear %{{.*}}, %{{.*}} {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 32, 32>}
func.func @packed_parameter_slices(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>) {
  %w = vgcu.param "model.layers.0.self_attn.qkv_proj.weight" : tensor<128x64xf32>
  %qkv = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %q = vgcu.slice %qkv {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %k = vgcu.slice %qkv {dim = -1 : i64, start = 64 : i64, end = 96 : i64} : tensor<?x128xf32> -> tensor<?x32xf32>
  %v = vgcu.slice %qkv {dim = 1 : i64, start = 96 : i64, end = 128 : i64} : tensor<?x128xf32> -> tensor<?x32xf32>
  return %q, %k, %v : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>
}

// -----

// A packed gate_up_proj halved by its gated activation; a parameter of unknown name cut in
// two gets numbered parts.
// CHECK-LABEL: func.func @packed_parameter_halves
// CHECK: vgcu.linear %{{.*}}, %{{.*}} {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 128, 128>}
// CHECK: vgcu.linear %{{.*}}, %{{.*}} {packed_modules = ["fused_part0", "fused_part1"], packed_sizes = array<i64: 16, 48>}
func.func @packed_parameter_halves(%x: tensor<?x64xf32>) -> (tensor<?x128xf32>, tensor<?x16xf32>, tensor<?x48xf32>) {
  %w = vgcu.param "model.layers.0.mlp.gate_up_proj.weight" : tensor<256x64xf32>
  %gu = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
  %h = vgcu.silu_and_mul %gu : tensor<?x256xf32> -> tensor<?x128xf32>
  %w2 = vgcu.param "model.layers.0.mlp.fused.weight" : tensor<64x64xf32>
  %y = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %a = vgcu.slice %y {dim = 1 : i64, start = 0 : i64, end = 16 : i64} : tensor<?x64xf32> -> tensor<?x16xf32>
  %b = vgcu.slice %y {dim = 1 : i64, start = 16 : i64, end = 64 : i64} : tensor<?x64xf32> -> tensor<?x48xf32>
  return %h, %a, %b : tensor<?x128xf32>, tensor<?x16xf32>, tensor<?x48xf32>
}

// -----

// Look-alikes: slices that overlap, leave a gap, or use the output whole are no packing.
// CHECK-LABEL: func.func @not_a_packing
// CHECK-NOT: packed_sizes
func.func @not_a_packing(%x: tensor<?x64xf32>) -> (tensor<?x40xf32>, tensor<?x40xf32>, tensor<?x16xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "a.proj.weight" : tensor<64x64xf32>
  %y = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %a = vgcu.slice %y {dim = 1 : i64, start = 0 : i64, end = 40 : i64} : tensor<?x64xf32> -> tensor<?x40xf32>
  %b = vgcu.slice %y {dim = 1 : i64, start = 24 : i64, end = 64 : i64} : tensor<?x64xf32> -> tensor<?x40xf32>
  %w2 = vgcu.param "b.proj.weight" : tensor<64x64xf32>
  %z = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %c = vgcu.slice %z {dim = 1 : i64, start = 0 : i64, end = 16 : i64} : tensor<?x64xf32> -> tensor<?x16xf32>
  return %a, %b, %c, %z : tensor<?x40xf32>, tensor<?x40xf32>, tensor<?x16xf32>, tensor<?x64xf32>
}
