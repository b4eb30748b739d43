// vgcu-fuse-rotary-attention: a rotary embedding whose results feed only one attention
// becomes vgcu.rotary_attention, taking Qwen3's per-head q/k norms before it along;
// look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-rotary-attention --split-input-file | FileCheck %s

// CHECK-LABEL: func.func @rotary_then_attention
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x64xf32>, %[[K:[a-z0-9]+]]: tensor<?x32xf32>, %[[V:[a-z0-9]+]]: tensor<?x32xf32>)
// CHECK: %[[O:.*]] = vgcu.rotary_attention %[[POS]], %[[Q]], %[[K]], %[[V]] neox {causal, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 16 : i64, scale = 2.500000e-01 : f64, sliding_window = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
// CHECK-NOT: vgcu.rotary_embedding
// CHECK-NOT: vgcu.attention
// CHECK: return %[[O]]
func.func @rotary_then_attention(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) -> tensor<?x64xf32> {
  %q2, %k2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %o = vgcu.attention %q2, %k2, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, sliding_window = 8 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Qwen3: per-head RMSNorm of q and k (reshape → rms_norm → reshape) before the rotary, one
// epsilon: the norm weights ride along. Partial rotary (8 of 16 channels, GPT-J pairs) too.
// CHECK-LABEL: func.func @qk_norm_partial_gptj
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x64xf32>, %[[K:[a-z0-9]+]]: tensor<?x32xf32>, %[[V:[a-z0-9]+]]: tensor<?x32xf32>)
// CHECK-DAG: %[[QW:.*]] = vgcu.param "q_norm.weight"
// CHECK-DAG: %[[KW:.*]] = vgcu.param "k_norm.weight"
// CHECK: vgcu.rotary_attention %[[POS]], %[[Q]], %[[K]], %[[V]] qk_norm(%[[QW]], %[[KW]] : tensor<16xf32>, tensor<16xf32>) gptj {causal, head_dim = 16 : i64, norm_epsilon = 9.9999999999999995E-7 : f64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 8 : i64, scale = 2.500000e-01 : f64, theta = 1.000000e+06 : f64}
// CHECK-NOT: vgcu.rms_norm
func.func @qk_norm_partial_gptj(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) -> tensor<?x64xf32> {
  %qw = vgcu.param "q_norm.weight" : tensor<16xf32>
  %kw = vgcu.param "k_norm.weight" : tensor<16xf32>
  %qh = vgcu.reshape %q : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %qn = vgcu.rms_norm %qh, %qw {epsilon = 1.0e-06 : f64} : tensor<?x4x16xf32>, tensor<16xf32>
  %qf = vgcu.reshape %qn : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %kh = vgcu.reshape %k : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %kn = vgcu.rms_norm %kh, %kw {epsilon = 1.0e-06 : f64} : tensor<?x2x16xf32>, tensor<16xf32>
  %kf = vgcu.reshape %kn : tensor<?x2x16xf32> -> tensor<?x32xf32>
  %q2, %k2 = vgcu.rotary_embedding %pos, %qf, %kf gptj {head_dim = 16 : i64, rotary_dim = 8 : i64, theta = 1.0e+06 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %o = vgcu.attention %q2, %k2, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Norms with two epsilons: the rotary still fuses, the norms stay outside.
// CHECK-LABEL: func.func @norms_disagree
// CHECK-COUNT-2: vgcu.rms_norm
// CHECK: vgcu.rotary_attention %{{[a-z0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[a-z0-9]+}} neox {
func.func @norms_disagree(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) -> tensor<?x64xf32> {
  %qw = vgcu.param "q_norm.weight" : tensor<16xf32>
  %kw = vgcu.param "k_norm.weight" : tensor<16xf32>
  %qh = vgcu.reshape %q : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %qn = vgcu.rms_norm %qh, %qw {epsilon = 1.0e-06 : f64} : tensor<?x4x16xf32>, tensor<16xf32>
  %qf = vgcu.reshape %qn : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %kh = vgcu.reshape %k : tensor<?x32xf32> -> tensor<?x2x16xf32>
  %kn = vgcu.rms_norm %kh, %kw {epsilon = 1.0e-05 : f64} : tensor<?x2x16xf32>, tensor<16xf32>
  %kf = vgcu.reshape %kn : tensor<?x2x16xf32> -> tensor<?x32xf32>
  %q2, %k2 = vgcu.rotary_embedding %pos, %qf, %kf neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %o = vgcu.attention %q2, %k2, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// Look-alikes: the rotated query is used elsewhere too; the rotary's heads are not the
// attention's; an attention whose q and k are not rotated stays vgcu.attention.
// CHECK-LABEL: func.func @look_alikes
// CHECK-NOT: vgcu.rotary_attention
// CHECK: vgcu.rotary_embedding
// CHECK: vgcu.attention
// CHECK: vgcu.rotary_embedding
// CHECK: vgcu.attention
// CHECK: vgcu.attention
func.func @look_alikes(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %q2, %k2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %o = vgcu.attention %q2, %k2, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %q3, %k3 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %o2 = vgcu.attention %q3, %k3, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %o3 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return %o, %q2, %o2, %o3 : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}
