// vgcu-fuse-attention: softmax(q·kᵀ·scale, causal mask)·v over [T, heads, head_dim] becomes vgcu.attention; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-attention --canonicalize --split-input-file | FileCheck %s

// Every case is AttentionCore.attend traced: q [T, 4, 8]; k, v [T, 2, 8] (grouped, repeat_kv as
// reshape [T, 2, 1, 8] -> broadcast [T, 2, 2, 8] -> reshape [T, 4, 8]) or [T, 4, 8];
// scores = matmul(q.transpose(0, 1), k.permute(1, 2, 0)) * scaling; masked_fill(key > query,
// finfo.min); softmax(-1); matmul(probs, v.transpose(0, 1)).transpose(0, 1).reshape(T, 32).
// The scale constants are f32, so the fused op records their f32 value (1/sqrt(8) as f32 is
// 0.35355338454246521).
// --canonicalize removes the primitives left dead by a fusion and folds the fused op's
// [T, 32] -> [T, 4, 8] -> [4, T, 8] -> [T, 4, 8] -> [T, 32] round trip back into its result.

// Grouped KV heads (4 query heads, 2 KV heads), scaled scores, causal mask.
// CHECK-LABEL: func.func @gqa_causal
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.35355338454246521 : f64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @gqa_causal(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// InternLM2 / Baichuan: scores divided by sqrt(head_dim) (a division, not a multiply), and k
// and v selected as [T, 2, 1, 8] out of a grouped view, then repeated without a reshape to
// [T, 2, 8] in between.
// CHECK-LABEL: func.func @gqa_divided_selected_kv
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x1x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x1x8xf32>)
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x1x8xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x1x8xf32> -> tensor<?x16xf32>
// CHECK: vgcu.attention %{{.*}}, %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.35355339664408242 : f64}
// CHECK-NOT: vgcu.div
// CHECK-NOT: vgcu.softmax
func.func @gqa_divided_selected_kv(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x1x8xf32>, %v: tensor<?x2x1x8xf32>) -> tensor<?x32xf32> {
  %k2 = vgcu.broadcast %k : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v2 = vgcu.broadcast %v : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %root = vgcu.constant dense<2.82842712> : tensor<f32>
  %scaled = vgcu.div %scores, %root : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Plain multi-head attention: no repeat_kv.
// CHECK-LABEL: func.func @mha_causal
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 0.35355338454246521 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @mha_causal(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Mistral's sliding window: masked = (key > query) | (query - key >= 4).
// CHECK-LABEL: func.func @gqa_sliding_window
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.35355338454246521 : f64, sliding_window = 4 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @gqa_sliding_window(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %dist = vgcu.sub %qp, %kp : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi64>
  %win = vgcu.constant dense<4> : tensor<i64>
  %far = vgcu.compare ge, %dist, %win : (tensor<?x?xi64>, tensor<i64>) -> tensor<?x?xi1>
  %mask = vgcu.or %masked, %far : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %mask, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// The causal mask spelled query < key, and the window term first in the or.
// CHECK-LABEL: func.func @gqa_query_lt_key_window_first
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.35355338454246521 : f64, sliding_window = 16 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @gqa_query_lt_key_window_first(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare lt, %qp, %kp : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi1>
  %far0 = vgcu.sub %qp, %kp : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi64>
  %win = vgcu.constant dense<16> : tensor<i64>
  %far = vgcu.compare ge, %far0, %win : (tensor<?x?xi64>, tensor<i64>) -> tensor<?x?xi1>
  %mask = vgcu.or %far, %masked : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %mask, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// bf16 model: scores scaled in bf16, filled with bf16's finfo.min, softmax(dtype=f32) as
// cast + softmax + cast. The scale is bf16's 1/sqrt(8).
// CHECK-LABEL: func.func @gqa_bf16_f32_softmax
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xbf16>, %[[K:[a-z0-9]+]]: tensor<?x2x8xbf16>, %[[V:[a-z0-9]+]]: tensor<?x2x8xbf16>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xbf16> -> tensor<?x32xbf16>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xbf16> -> tensor<?x16xbf16>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x8xbf16> -> tensor<?x16xbf16>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.353515625 : f64} : tensor<?x32xbf16>, tensor<?x16xbf16>, tensor<?x16xbf16> -> tensor<?x32xbf16>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @gqa_bf16_f32_softmax(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xbf16>, %k: tensor<?x2x8xbf16>, %v: tensor<?x2x8xbf16>) -> tensor<?x32xbf16> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xbf16> -> tensor<?x2x1x8xbf16>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xbf16> -> tensor<?x2x2x8xbf16>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xbf16> -> tensor<?x4x8xbf16>
  %v1 = vgcu.reshape %v : tensor<?x2x8xbf16> -> tensor<?x2x1x8xbf16>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xbf16> -> tensor<?x2x2x8xbf16>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xbf16> -> tensor<?x4x8xbf16>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xbf16> -> tensor<4x?x8xbf16>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xbf16> -> tensor<4x8x?xbf16>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xbf16>, tensor<4x8x?xbf16> -> tensor<4x?x?xbf16>
  %scale = vgcu.constant dense<3.535160e-01> : tensor<bf16>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xbf16>, tensor<bf16>) -> tensor<4x?x?xbf16>
  %ninf = vgcu.constant dense<-3.389530e+38> : tensor<bf16>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<bf16>, tensor<4x?x?xbf16>) -> tensor<4x?x?xbf16>
  %f32 = vgcu.cast %filled : tensor<4x?x?xbf16> to tensor<4x?x?xf32>
  %p32 = vgcu.softmax %f32 {dim = -1 : i64} : tensor<4x?x?xf32>
  %probs = vgcu.cast %p32 : tensor<4x?x?xf32> to tensor<4x?x?xbf16>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xbf16> -> tensor<4x?x8xbf16>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xbf16>, tensor<4x?x8xbf16> -> tensor<4x?x8xbf16>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xbf16> -> tensor<?x4x8xbf16>
  %out = vgcu.reshape %ot : tensor<?x4x8xbf16> -> tensor<?x32xbf16>
  return %out : tensor<?x32xbf16>
}

// -----

// An unusual scale, 0.1 instead of 1/sqrt(head_dim): vgcu.attention records the scale
// explicitly and does not assume 1/sqrt(head_dim), so this fuses with scale = f32(0.1)
// (printed 0.10000000149011612; an exact 0.1 is not representable in an f32 graph).
// CHECK-LABEL: func.func @gqa_unusual_scale
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.10000000149011612 : f64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @gqa_unusual_scale(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<1.000000e-01> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// OPT: q scaled by head_dim**-0.5 right after q_proj, before the view to heads; the scores are
// not scaled again.
// CHECK-LABEL: func.func @opt_scale_on_q
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[X:[a-z0-9]+]]: tensor<?x32xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[X]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 0.35355338454246521 : f64}
// CHECK-NOT: vgcu.mul
// CHECK-NOT: vgcu.softmax
// CHECK: return %[[O]]
func.func @opt_scale_on_q(%pos: tensor<?xi64> {vgcu.name = "positions"}, %x: tensor<?x32xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qs = vgcu.constant dense<0.353553385> : tensor<f32>
  %qproj = vgcu.mul %x, %qs : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %q = vgcu.reshape %qproj : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scores : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Scales on both the [T, H, D] query (0.5) and the scores (0.25, as a [1, 1, 1] splat): they
// multiply, 0.125.
// CHECK-LABEL: func.func @mha_two_scales
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 1.250000e-01 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @mha_two_scales(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qs = vgcu.constant dense<5.000000e-01> : tensor<f32>
  %q2 = vgcu.mul %q, %qs : (tensor<?x4x8xf32>, tensor<f32>) -> tensor<?x4x8xf32>
  %qt = vgcu.transpose %q2 {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<2.500000e-01> : tensor<1x1x1xf32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<1x1x1xf32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// No scaling at all (scaling == 1.0 is skipped by the model): scale 1.
// CHECK-LABEL: func.func @mha_no_scale
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"}, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[V:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[VF:.*]] = vgcu.reshape %[[V]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK: %[[O:.*]] = vgcu.attention %[[QF]], %[[KF]], %[[VF]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 1.000000e+00 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
// CHECK-NOT: vgcu.softmax
// CHECK-NOT: vgcu.matmul
// CHECK-NOT: vgcu.broadcast
// CHECK: return %[[O]]
func.func @mha_no_scale(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scores : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// key < query masked: the anti-causal mask (lt in the wrong orientation).
// CHECK-LABEL: func.func @no_attention_anti_causal_lt
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare lt
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_anti_causal_lt(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare lt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// query > key masked: also anti-causal (gt with the operands swapped).
// CHECK-LABEL: func.func @no_attention_anti_causal_gt
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare gt
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_anti_causal_gt(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %qp, %kp : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// key >= query masked: hides the diagonal too (every query would see no key at position 0).
// CHECK-LABEL: func.func @no_attention_ge_mask
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare ge
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_ge_mask(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare ge, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Key positions compared with themselves: nothing is masked; not causal.
// CHECK-LABEL: func.func @no_attention_key_vs_key
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare gt
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_key_vs_key(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %masked = vgcu.compare gt, %kp, %kp : (tensor<1x?xi64>, tensor<1x?xi64>) -> tensor<1x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<1x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Key positions from another tensor than the query positions (e.g. cache slots).
// CHECK-LABEL: func.func @no_attention_two_position_tensors
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.compare gt
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_two_position_tensors(%pos: tensor<?xi64> {vgcu.name = "positions"}, %kpos: tensor<?xi64>, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %kpos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// A mask passed in (a padding mask, say): not built from positions.
// CHECK-LABEL: func.func @no_attention_mask_argument
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.where
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_mask_argument(%m: tensor<?x?xi1>, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %m, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Softmax over the queries (dim 1), not the keys.
// CHECK-LABEL: func.func @no_attention_softmax_wrong_axis
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.where
// CHECK: vgcu.softmax %{{.*}} {dim = 1 : i64}
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_softmax_wrong_axis(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = 1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// A per-head scale ([4, 1, 1] tensor): not a scalar.
// CHECK-LABEL: func.func @no_attention_per_head_scale
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.mul %{{.*}}, %{{.*}} : (tensor<4x?x?xf32>, tensor<4x1x1xf32>)
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_per_head_scale(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<[[[1.000000e+00]], [[5.000000e-01]], [[2.500000e-01]], [[1.250000e-01]]]> : tensor<4x1x1xf32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<4x1x1xf32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Even a splat [4, 1, 1] scale is a tensor of several elements, not a scalar constant.
// CHECK-LABEL: func.func @no_attention_splat_tensor_scale
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.mul %{{.*}}, %{{.*}} : (tensor<4x?x?xf32>, tensor<4x1x1xf32>)
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_splat_tensor_scale(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<5.000000e-01> : tensor<4x1x1xf32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<4x1x1xf32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// The scale is a runtime scalar (an argument), not a constant.
// CHECK-LABEL: func.func @no_attention_runtime_scale
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.mul
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_runtime_scale(%pos: tensor<?xi64> {vgcu.name = "positions"}, %s: tensor<f32>, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %scaled = vgcu.mul %scores, %s : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Masked scores filled with -1.0: not very negative, the masked keys keep weight.
// CHECK-LABEL: func.func @no_attention_fill_minus_one
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.where
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_fill_minus_one(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-1.000000e+00> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// where(mask, scores, -inf): the visible keys are the masked ones (inverted mask).
// CHECK-LABEL: func.func @no_attention_inverted_where
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.where
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_inverted_where(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %scaled, %ninf : (tensor<?x?xi1>, tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// A "window" term 4 >= query - key: keeps only far keys, not a sliding window.
// CHECK-LABEL: func.func @no_attention_bad_window
// CHECK-NOT: vgcu.attention
// CHECK: vgcu.or
// CHECK: vgcu.softmax
// CHECK: vgcu.matmul
// CHECK-NOT: vgcu.attention
func.func @no_attention_bad_window(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>, %v: tensor<?x2x8xf32>) -> tensor<?x32xf32> {
  %k1 = vgcu.reshape %k : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k2 = vgcu.broadcast %k1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v1 = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v2 = vgcu.broadcast %v1 : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v2 : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %dist = vgcu.sub %qp, %kp : (tensor<?x1xi64>, tensor<1x?xi64>) -> tensor<?x?xi64>
  %win = vgcu.constant dense<4> : tensor<i64>
  %far = vgcu.compare ge, %win, %dist : (tensor<i64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  %mask = vgcu.or %masked, %far : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %mask, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// Gemma 2: the scaled scores are soft-capped before the mask; the cap becomes `softcap`.
// CHECK-LABEL: func.func @soft_capped_scores
// CHECK: vgcu.attention {{.*}} {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 0.35355338454246521 : f64, softcap = 5.000000e+01 : f64}
// CHECK-NOT: vgcu.soft_cap
// CHECK-NOT: vgcu.softmax
func.func @soft_capped_scores(%pos: tensor<?xi64> {vgcu.name = "positions"}, %q: tensor<?x4x8xf32>, %k: tensor<?x4x8xf32>, %v: tensor<?x4x8xf32>) -> tensor<?x32xf32> {
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %qt = vgcu.transpose %q {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %k {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %capped = vgcu.soft_cap %scaled {cap = 5.0e+01 : f64} : tensor<4x?x?xf32>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %capped : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %v {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %o = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ot = vgcu.transpose %o {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %out = vgcu.reshape %ot : tensor<?x4x8xf32> -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}
