// vgcu-fuse-moe: a traced (dense) mixture of experts, every expert weighted by a column of the
// top-k routing weights scattered into zeros, becomes vgcu.moe_router + vgcu.moe_experts over
// stacked parameters named beside the experts; look-alikes stay as they are.
// RUN: vgcu-opt %s --vgcu-fuse-moe -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @renormalized
// CHECK: %[[W:.*]], %[[IDS:.*]] = vgcu.moe_router %arg0, %{{.*}} {renormalize, top_k = 1 : i64}
// CHECK: %[[GU:.*]] = vgcu.param "m.mlp.experts.gate_up.weight" : tensor<16x8xf32>
// CHECK: %[[D:.*]] = vgcu.param "m.mlp.experts.down.weight" : tensor<16x4xf32>
// CHECK: %[[Y:.*]] = vgcu.moe_experts %arg0, %[[W]], %[[IDS]], %[[GU]], %[[D]] {expert_modules = ["gate_proj", "up_proj", "down_proj"], num_experts = 2 : i64}
// CHECK-NOT: vgcu.scatter
// CHECK: return %[[Y]]
func.func @renormalized(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %s = vgcu.sum %values {dims = array<i64: -1>, keepdim} : tensor<?x1xf32> -> tensor<?x1xf32>
  %w = vgcu.div %values, %s : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %zero = vgcu.constant dense<0.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %g0w = vgcu.param "m.mlp.experts.0.gate_proj.weight" : tensor<4x8xf32>
  %g0 = vgcu.linear %x, %g0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u0w = vgcu.param "m.mlp.experts.0.up_proj.weight" : tensor<4x8xf32>
  %u0 = vgcu.linear %x, %u0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu0 = vgcu.concat %g0, %u0 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %g1w = vgcu.param "m.mlp.experts.1.gate_proj.weight" : tensor<4x8xf32>
  %g1 = vgcu.linear %x, %g1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u1w = vgcu.param "m.mlp.experts.1.up_proj.weight" : tensor<4x8xf32>
  %u1 = vgcu.linear %x, %u1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu1 = vgcu.concat %g1, %u1 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}

// -----

// The weights as top-k gives them (Qwen without norm_topk_prob).
// CHECK-LABEL: func.func @top_k_weights
// CHECK: vgcu.moe_router %arg0, %{{.*}} {top_k = 1 : i64}
// CHECK: vgcu.moe_experts
func.func @top_k_weights(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %zero = vgcu.constant dense<0.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %values {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %g0w = vgcu.param "m.mlp.experts.0.gate_proj.weight" : tensor<4x8xf32>
  %g0 = vgcu.linear %x, %g0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u0w = vgcu.param "m.mlp.experts.0.up_proj.weight" : tensor<4x8xf32>
  %u0 = vgcu.linear %x, %u0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu0 = vgcu.concat %g0, %u0 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %g1w = vgcu.param "m.mlp.experts.1.gate_proj.weight" : tensor<4x8xf32>
  %g1 = vgcu.linear %x, %g1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u1w = vgcu.param "m.mlp.experts.1.up_proj.weight" : tensor<4x8xf32>
  %u1 = vgcu.linear %x, %u1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu1 = vgcu.concat %g1, %u1 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}

// -----

// Gate and up already packed into one projection per expert.
// CHECK-LABEL: func.func @packed
// CHECK: vgcu.moe_experts {{.*}} {expert_modules = ["gate_proj", "up_proj", "down_proj"], num_experts = 2 : i64}
func.func @packed(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %s = vgcu.sum %values {dims = array<i64: -1>, keepdim} : tensor<?x1xf32> -> tensor<?x1xf32>
  %w = vgcu.div %values, %s : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %zero = vgcu.constant dense<0.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %gu0w = vgcu.param "m.mlp.experts.0.gate_up_proj.weight" : tensor<8x8xf32>
  %gu0 = vgcu.linear %x, %gu0w {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 4, 4>} : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %gu1w = vgcu.param "m.mlp.experts.1.gate_up_proj.weight" : tensor<8x8xf32>
  %gu1 = vgcu.linear %x, %gu1w {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 4, 4>} : tensor<?x8xf32>, tensor<8x8xf32> -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}

// -----

// Qwen2-MoE: sigmoid(x · shared_gateᵀ) · shared_expert(x) added to the sum.
// CHECK-LABEL: func.func @shared
// CHECK-DAG: %[[SGU:.*]] = vgcu.param "m.mlp.shared_expert.gate_up_proj.weight" : tensor<8x8xf32>
// CHECK-DAG: %[[SD:.*]] = vgcu.param "m.mlp.shared_expert.down_proj.weight" : tensor<8x4xf32>
// CHECK-DAG: %[[SG:.*]] = vgcu.param "m.mlp.shared_expert_gate.weight" : tensor<1x8xf32>
// CHECK: %[[Y:.*]] = vgcu.moe_experts {{.*}} shared(%[[SGU]], %[[SD]]) shared_gate(%[[SG]])
// CHECK-NOT: vgcu.sigmoid
// CHECK: return %[[Y]]
func.func @shared(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %s = vgcu.sum %values {dims = array<i64: -1>, keepdim} : tensor<?x1xf32> -> tensor<?x1xf32>
  %w = vgcu.div %values, %s : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %zero = vgcu.constant dense<0.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %g0w = vgcu.param "m.mlp.experts.0.gate_proj.weight" : tensor<4x8xf32>
  %g0 = vgcu.linear %x, %g0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u0w = vgcu.param "m.mlp.experts.0.up_proj.weight" : tensor<4x8xf32>
  %u0 = vgcu.linear %x, %u0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu0 = vgcu.concat %g0, %u0 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %g1w = vgcu.param "m.mlp.experts.1.gate_proj.weight" : tensor<4x8xf32>
  %g1 = vgcu.linear %x, %g1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u1w = vgcu.param "m.mlp.experts.1.up_proj.weight" : tensor<4x8xf32>
  %u1 = vgcu.linear %x, %u1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu1 = vgcu.concat %g1, %u1 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %sgw = vgcu.param "m.mlp.shared_expert_gate.weight" : tensor<1x8xf32>
  %sgl = vgcu.linear %x, %sgw : tensor<?x8xf32>, tensor<1x8xf32> -> tensor<?x1xf32>
  %sg = vgcu.sigmoid %sgl : tensor<?x1xf32>
  %sgpw = vgcu.param "m.mlp.shared_expert.gate_proj.weight" : tensor<4x8xf32>
  %sgp = vgcu.linear %x, %sgpw : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %supw = vgcu.param "m.mlp.shared_expert.up_proj.weight" : tensor<4x8xf32>
  %sup = vgcu.linear %x, %supw : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %sgu = vgcu.concat %sgp, %sup {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %sh = vgcu.silu_and_mul %sgu : tensor<?x8xf32> -> tensor<?x4xf32>
  %sdw = vgcu.param "m.mlp.shared_expert.down_proj.weight" : tensor<8x4xf32>
  %sy = vgcu.linear %sh, %sdw : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %ss = vgcu.mul %sg, %sy : (tensor<?x1xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %out = vgcu.add %sum, %ss : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %out : tensor<?x8xf32>
}

// -----

// Look-alike: the weights are scattered into ones, so unrouted experts count.
// CHECK-LABEL: func.func @scattered_into_ones
// CHECK-NOT: vgcu.moe_router
// CHECK: vgcu.scatter
func.func @scattered_into_ones(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %s = vgcu.sum %values {dims = array<i64: -1>, keepdim} : tensor<?x1xf32> -> tensor<?x1xf32>
  %w = vgcu.div %values, %s : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %zero = vgcu.constant dense<1.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %g0w = vgcu.param "m.mlp.experts.0.gate_proj.weight" : tensor<4x8xf32>
  %g0 = vgcu.linear %x, %g0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u0w = vgcu.param "m.mlp.experts.0.up_proj.weight" : tensor<4x8xf32>
  %u0 = vgcu.linear %x, %u0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu0 = vgcu.concat %g0, %u0 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %g1w = vgcu.param "m.mlp.experts.1.gate_proj.weight" : tensor<4x8xf32>
  %g1 = vgcu.linear %x, %g1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u1w = vgcu.param "m.mlp.experts.1.up_proj.weight" : tensor<4x8xf32>
  %u1 = vgcu.linear %x, %u1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu1 = vgcu.concat %g1, %u1 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}

// -----

// Look-alike: an expert's gate projection has a bias the fused experts have no place for.
// CHECK-LABEL: func.func @expert_with_bias
// CHECK-NOT: vgcu.moe_router
// CHECK: vgcu.scatter
func.func @expert_with_bias(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %g = vgcu.param "m.mlp.gate.weight" : tensor<2x8xf32>
  %logits = vgcu.linear %x, %g : tensor<?x8xf32>, tensor<2x8xf32> -> tensor<?x2xf32>
  %probs = vgcu.softmax %logits {dim = 1 : i64} : tensor<?x2xf32>
  %values, %ids = vgcu.topk %probs {k = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>, tensor<?x1xi64>
  %s = vgcu.sum %values {dims = array<i64: -1>, keepdim} : tensor<?x1xf32> -> tensor<?x1xf32>
  %w = vgcu.div %values, %s : (tensor<?x1xf32>, tensor<?x1xf32>) -> tensor<?x1xf32>
  %zero = vgcu.constant dense<0.000000e+00> : tensor<f32>
  %zeros = vgcu.broadcast %zero : tensor<f32> -> tensor<?x2xf32>
  %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64} : tensor<?x2xf32>, tensor<?x1xi64>, tensor<?x1xf32>
  %g0w = vgcu.param "m.mlp.experts.0.gate_proj.weight" : tensor<4x8xf32>
  %g0 = vgcu.linear %x, %g0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %u0w = vgcu.param "m.mlp.experts.0.up_proj.weight" : tensor<4x8xf32>
  %u0 = vgcu.linear %x, %u0w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu0 = vgcu.concat %g0, %u0 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h0 = vgcu.silu_and_mul %gu0 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d0w = vgcu.param "m.mlp.experts.0.down_proj.weight" : tensor<8x4xf32>
  %y0 = vgcu.linear %h0, %d0w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c0 = vgcu.slice %dense {dim = 1 : i64, start = 0 : i64, end = 1 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t0 = vgcu.mul %y0, %c0 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %g1w = vgcu.param "m.mlp.experts.1.gate_proj.weight" : tensor<4x8xf32>
  %g1b = vgcu.param "m.mlp.experts.1.gate_proj.bias" : tensor<4xf32>
  %g1 = vgcu.linear %x, %g1w, %g1b : tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %u1w = vgcu.param "m.mlp.experts.1.up_proj.weight" : tensor<4x8xf32>
  %u1 = vgcu.linear %x, %u1w : tensor<?x8xf32>, tensor<4x8xf32> -> tensor<?x4xf32>
  %gu1 = vgcu.concat %g1, %u1 {dim = 1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %h1 = vgcu.silu_and_mul %gu1 : tensor<?x8xf32> -> tensor<?x4xf32>
  %d1w = vgcu.param "m.mlp.experts.1.down_proj.weight" : tensor<8x4xf32>
  %y1 = vgcu.linear %h1, %d1w : tensor<?x4xf32>, tensor<8x4xf32> -> tensor<?x8xf32>
  %c1 = vgcu.slice %dense {dim = 1 : i64, start = 1 : i64, end = 2 : i64, step = 1 : i64} : tensor<?x2xf32> -> tensor<?x1xf32>
  %t1 = vgcu.mul %y1, %c1 : (tensor<?x8xf32>, tensor<?x1xf32>) -> tensor<?x8xf32>
  %sum = vgcu.add %t0, %t1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %sum : tensor<?x8xf32>
}
