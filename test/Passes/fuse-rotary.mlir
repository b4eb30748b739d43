// vgcu-fuse-rotary: x·cos + rotate(x)·sin on queries and keys, with cos/sin from positions·inv_freq, becomes vgcu.rotary_embedding; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-rotary --canonicalize --split-input-file | FileCheck %s

// The tables in every case: head_dim 8, inv_freq[i] = theta^(-2i/8) with theta = 10000, i.e.
// [1, 0.1, 0.01, 0.001] as an f32 constant; freqs = positions.float()[:, None] * inv_freq[None, :],
// then cat(freqs, freqs) (neox) or repeat_interleave(freqs, 2) (GPT-J), cos/sin, and
// cos[:, None, :] to broadcast over the heads. Queries are [T, 4, 8], keys [T, 2, 8].
// --canonicalize drops the dead table computations after a fusion.

// HF apply_rotary_pos_emb with rotate_half on a query and a key sharing cos/sin: one op.
// CHECK-LABEL: func.func @neox_query_key
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK-DAG: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK-DAG: %[[KF:.*]] = vgcu.reshape %[[K]] : tensor<?x2x8xf32> -> tensor<?x16xf32>
// CHECK: %[[QR:.*]], %[[KR:.*]] = vgcu.rotary_embedding %[[POS]], %[[QF]], %[[KF]] neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x32xf32>, tensor<?x16xf32>
// CHECK-DAG: %[[QO:.*]] = vgcu.reshape %[[QR]] : tensor<?x32xf32> -> tensor<?x4x8xf32>
// CHECK-DAG: %[[KO:.*]] = vgcu.reshape %[[KR]] : tensor<?x16xf32> -> tensor<?x2x8xf32>
// CHECK-NOT: vgcu.rotary_embedding
// CHECK-NOT: vgcu.cos
// CHECK-NOT: vgcu.sin
// CHECK-NOT: vgcu.neg
// CHECK: return %[[QO]], %[[KO]]
func.func @neox_query_key(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x2x8xf32>) {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %klo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %khi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %kneg = vgcu.neg %khi : tensor<?x2x4xf32>
  %krot = vgcu.concat %kneg, %klo {dim = -1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x2x8xf32>
  %kxc = vgcu.mul %k, %c : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krs = vgcu.mul %krot, %s : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %kout = vgcu.add %kxc, %krs : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>
  return %qout, %kout : tensor<?x4x8xf32>, tensor<?x2x8xf32>
}

// -----

// A bf16 model: the tables are computed in f32 and cast to bf16 (emb.cos().to(dtype)).
// CHECK-LABEL: func.func @neox_bf16
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x8xbf16>, %[[K:[a-z0-9]+]]: tensor<?x2x8xbf16>)
// CHECK: vgcu.rotary_embedding %[[POS]], %{{.*}}, %{{.*}} neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x32xbf16>, tensor<?x16xbf16>
// CHECK-NOT: vgcu.rotary_embedding
// CHECK-NOT: vgcu.cos
// CHECK: return
func.func @neox_bf16(%pos: tensor<?xi64>, %q: tensor<?x4x8xbf16>, %k: tensor<?x2x8xbf16>) -> (tensor<?x4x8xbf16>, tensor<?x2x8xbf16>) {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos32 = vgcu.cos %emb : tensor<?x8xf32>
  %sin32 = vgcu.sin %emb : tensor<?x8xf32>
  %cos = vgcu.cast %cos32 : tensor<?x8xf32> to tensor<?x8xbf16>
  %sin = vgcu.cast %sin32 : tensor<?x8xf32> to tensor<?x8xbf16>
  %c = vgcu.reshape %cos : tensor<?x8xbf16> -> tensor<?x1x8xbf16>
  %s = vgcu.reshape %sin : tensor<?x8xbf16> -> tensor<?x1x8xbf16>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xbf16> -> tensor<?x4x4xbf16>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xbf16> -> tensor<?x4x4xbf16>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xbf16>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xbf16>, tensor<?x4x4xbf16>) -> tensor<?x4x8xbf16>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x4x8xbf16>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x4x8xbf16>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xbf16>, tensor<?x4x8xbf16>) -> tensor<?x4x8xbf16>
  %klo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xbf16> -> tensor<?x2x4xbf16>
  %khi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xbf16> -> tensor<?x2x4xbf16>
  %kneg = vgcu.neg %khi : tensor<?x2x4xbf16>
  %krot = vgcu.concat %kneg, %klo {dim = -1 : i64} : (tensor<?x2x4xbf16>, tensor<?x2x4xbf16>) -> tensor<?x2x8xbf16>
  %kxc = vgcu.mul %k, %c : (tensor<?x2x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x2x8xbf16>
  %krs = vgcu.mul %krot, %s : (tensor<?x2x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x2x8xbf16>
  %kout = vgcu.add %kxc, %krs : (tensor<?x2x8xbf16>, tensor<?x2x8xbf16>) -> tensor<?x2x8xbf16>
  return %qout, %kout : tensor<?x4x8xbf16>, tensor<?x2x8xbf16>
}

// -----

// GPT-J interleaved pairs: rotate = stack((-x[..., 1::2], x[..., ::2]), -1).flatten(-2), and the
// angles repeat_interleave(2) as reshape [T, 4, 1] -> broadcast [T, 4, 2] -> reshape [T, 8].
// CHECK-LABEL: func.func @gptj_query_key
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK: %[[QR:.*]], %[[KR:.*]] = vgcu.rotary_embedding %[[POS]], %{{.*}}, %{{.*}} gptj {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x32xf32>, tensor<?x16xf32>
// CHECK-NOT: vgcu.rotary_embedding
// CHECK-NOT: vgcu.cos
// CHECK-NOT: vgcu.neg
// CHECK-NOT: vgcu.broadcast
// CHECK: return
func.func @gptj_query_key(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x2x8xf32>) {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %f3 = vgcu.reshape %freqs : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %f2 = vgcu.broadcast %f3 : tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %emb = vgcu.reshape %f2 : tensor<?x4x2xf32> -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qeven = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qodd = vgcu.slice %q {dim = -1 : i64, start = 1 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qnodd = vgcu.neg %qodd : tensor<?x4x4xf32>
  %qa = vgcu.reshape %qnodd : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %qb = vgcu.reshape %qeven : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %qst = vgcu.concat %qa, %qb {dim = -1 : i64} : (tensor<?x4x4x1xf32>, tensor<?x4x4x1xf32>) -> tensor<?x4x4x2xf32>
  %qrot = vgcu.reshape %qst : tensor<?x4x4x2xf32> -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %keven = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %kodd = vgcu.slice %k {dim = -1 : i64, start = 1 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %knodd = vgcu.neg %kodd : tensor<?x2x4xf32>
  %ka = vgcu.reshape %knodd : tensor<?x2x4xf32> -> tensor<?x2x4x1xf32>
  %kb = vgcu.reshape %keven : tensor<?x2x4xf32> -> tensor<?x2x4x1xf32>
  %kst = vgcu.concat %ka, %kb {dim = -1 : i64} : (tensor<?x2x4x1xf32>, tensor<?x2x4x1xf32>) -> tensor<?x2x4x2xf32>
  %krot = vgcu.reshape %kst : tensor<?x2x4x2xf32> -> tensor<?x2x8xf32>
  %kxc = vgcu.mul %k, %c : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krs = vgcu.mul %krot, %s : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %kout = vgcu.add %kxc, %krs : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>
  return %qout, %kout : tensor<?x4x8xf32>, tensor<?x2x8xf32>
}

// -----

// theta = 1e6 (Qwen2): inv_freq = 1e6^(-i/4) = [1, 0.0316, 0.001, 3.16e-5] in f32.
// CHECK-LABEL: func.func @neox_theta_1e6
// CHECK: vgcu.rotary_embedding {{.*}} neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+06 : f64}
// CHECK-NOT: vgcu.rotary_embedding
func.func @neox_theta_1e6(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x2x8xf32>) {
  %inv = vgcu.constant dense<[1.000000e+00, 0.0316227749, 1.000000e-03, 3.16227779E-5]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %klo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %khi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %kneg = vgcu.neg %khi : tensor<?x2x4xf32>
  %krot = vgcu.concat %kneg, %klo {dim = -1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x2x8xf32>
  %kxc = vgcu.mul %k, %c : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krs = vgcu.mul %krot, %s : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %kout = vgcu.add %kxc, %krs : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>
  return %qout, %kout : tensor<?x4x8xf32>, tensor<?x2x8xf32>
}

// -----

// Operands in the other order everywhere (cos * x, sin * rotate(x), the sin term first) and
// the last dimension spelled as 2: a single query, so the op gets it as both query and key.
// CHECK-LABEL: func.func @neox_operand_orders
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>)
// CHECK: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x8xf32> -> tensor<?x32xf32>
// CHECK: %[[QR:.*]], %{{.*}} = vgcu.rotary_embedding %[[POS]], %[[QF]], %[[QF]] neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64}
// CHECK: %[[QO:.*]] = vgcu.reshape %[[QR]] : tensor<?x32xf32> -> tensor<?x4x8xf32>
// CHECK: return %[[QO]]
func.func @neox_operand_orders(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %lo = vgcu.slice %q {dim = 2 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %hi = vgcu.slice %q {dim = 2 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %neg = vgcu.neg %hi : tensor<?x4x4xf32>
  %rot = vgcu.concat %neg, %lo {dim = 2 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %xc = vgcu.mul %c, %q : (tensor<?x1x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %rs = vgcu.mul %s, %rot : (tensor<?x1x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %out = vgcu.add %rs, %xc : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %out : tensor<?x4x8xf32>
}

// -----

// A query and a key rotated by tables from two different position tensors cannot share one op:
// each gets its own, with its own positions.
// CHECK-LABEL: func.func @neox_different_positions
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[POS2:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x8xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x8xf32>)
// CHECK: vgcu.rotary_embedding %[[POS]], %{{.*}}, %{{.*}} neox {{.*}} : tensor<?xi64>, tensor<?x32xf32>, tensor<?x32xf32>
// CHECK: vgcu.rotary_embedding %[[POS2]], %{{.*}}, %{{.*}} neox {{.*}} : tensor<?xi64>, tensor<?x16xf32>, tensor<?x16xf32>
// CHECK-NOT: vgcu.cos
func.func @neox_different_positions(%pos: tensor<?xi64>, %pos2: tensor<?xi64>, %q: tensor<?x4x8xf32>, %k: tensor<?x2x8xf32>) -> (tensor<?x4x8xf32>, tensor<?x2x8xf32>) {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %binv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %bpf = vgcu.cast %pos2 : tensor<?xi64> to tensor<?xf32>
  %bpcol = vgcu.reshape %bpf : tensor<?xf32> -> tensor<?x1xf32>
  %birow = vgcu.reshape %binv : tensor<4xf32> -> tensor<1x4xf32>
  %bfreqs = vgcu.mul %bpcol, %birow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %bemb = vgcu.concat %bfreqs, %bfreqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %bcos = vgcu.cos %bemb : tensor<?x8xf32>
  %bsin = vgcu.sin %bemb : tensor<?x8xf32>
  %bc = vgcu.reshape %bcos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %bs = vgcu.reshape %bsin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %klo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %khi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %kneg = vgcu.neg %khi : tensor<?x2x4xf32>
  %krot = vgcu.concat %kneg, %klo {dim = -1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x2x8xf32>
  %kxc = vgcu.mul %k, %bc : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krs = vgcu.mul %krot, %bs : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %kout = vgcu.add %kxc, %krs : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>
  return %qout, %kout : tensor<?x4x8xf32>, tensor<?x2x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Look-alikes that must stay as they are
//===----------------------------------------------------------------------===//

// No negation: cat(x2, x1) is not rotate_half.
// CHECK-LABEL: func.func @no_rotary_without_neg
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.cos
// CHECK: vgcu.sin
// CHECK: vgcu.concat
// CHECK: vgcu.mul
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_without_neg(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qrot = vgcu.concat %qhi, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// Halves swapped: cat(-x1, x2) (negating the first half, keeping the order) is not rotate_half.
// CHECK-LABEL: func.func @no_rotary_halves_swapped
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.neg
// CHECK: vgcu.concat
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_halves_swapped(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qlo : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qhi {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// cos from one angle tensor and sin from another (other positions).
// CHECK-LABEL: func.func @no_rotary_cos_sin_different_angles
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.cos
// CHECK: vgcu.sin
// CHECK: vgcu.neg
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_cos_sin_different_angles(%pos: tensor<?xi64>, %pos2: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %binv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %bpf = vgcu.cast %pos2 : tensor<?xi64> to tensor<?xf32>
  %bpcol = vgcu.reshape %bpf : tensor<?xf32> -> tensor<?x1xf32>
  %birow = vgcu.reshape %binv : tensor<4xf32> -> tensor<1x4xf32>
  %bfreqs = vgcu.mul %bpcol, %birow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %bemb = vgcu.concat %bfreqs, %bfreqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %bemb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// inv_freq = [1, 0.1, 0.02, 0.001] is not a geometric series theta^(-2i/d) (a scaled rope
// such as llama3 or yarn, as a trace computes it): the table is kept as given.
// CHECK-LABEL: func.func @rotary_precomputed_frequencies
// CHECK-NOT: vgcu.cos
// CHECK: vgcu.rotary_embedding {{.*}} rope_scaling = #vgcu.rope<type = precomputed, frequencies = [1.000000e+00, 1.000000e-01, 2.000000e-02, 1.000000e-03]>
// CHECK-NOT: vgcu.cos
func.func @rotary_precomputed_frequencies(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 2.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// Linear rope scaling (inv_freq / 2): geometric, but not theta^(-2i/d) (which starts at 1).
// CHECK-LABEL: func.func @rotary_precomputed_linear_scaling
// CHECK-NOT: vgcu.cos
// CHECK: vgcu.rotary_embedding {{.*}} rope_scaling = #vgcu.rope<type = precomputed, frequencies = [5.000000e-01, 5.000000e-02, 5.000000e-03, 5.000000e-04]>
func.func @rotary_precomputed_linear_scaling(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[5.000000e-01, 5.000000e-02, 5.000000e-03, 5.000000e-04]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// cos and sin swapped: x * sin + rotate_half(x) * cos.
// CHECK-LABEL: func.func @no_rotary_cos_sin_swapped
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.neg
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_cos_sin_swapped(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// A GPT-J (interleaved) rotation with neox tables (cat(freqs, freqs)): the pairs disagree.
// CHECK-LABEL: func.func @no_rotary_gptj_rotation_neox_tables
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.neg
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_gptj_rotation_neox_tables(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qeven = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qodd = vgcu.slice %q {dim = -1 : i64, start = 1 : i64, end = 8 : i64, step = 2 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qnodd = vgcu.neg %qodd : tensor<?x4x4xf32>
  %qa = vgcu.reshape %qnodd : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %qb = vgcu.reshape %qeven : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %qst = vgcu.concat %qa, %qb {dim = -1 : i64} : (tensor<?x4x4x1xf32>, tensor<?x4x4x1xf32>) -> tensor<?x4x4x2xf32>
  %qrot = vgcu.reshape %qst : tensor<?x4x4x2xf32> -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// rotate_half with GPT-J tables (repeat_interleave(freqs, 2)).
// CHECK-LABEL: func.func @no_rotary_neox_rotation_gptj_tables
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.neg
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_neox_rotation_gptj_tables(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %f3 = vgcu.reshape %freqs : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %f2 = vgcu.broadcast %f3 : tensor<?x4x1xf32> -> tensor<?x4x2xf32>
  %emb = vgcu.reshape %f2 : tensor<?x4x2xf32> -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// Angles that are an input, not positions times inv_freq: theta and positions are unknown.
// CHECK-LABEL: func.func @no_rotary_angles_from_input
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.cos
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_angles_from_input(%angles: tensor<?x8xf32>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %cos = vgcu.cos %angles : tensor<?x8xf32>
  %sin = vgcu.sin %angles : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  return %qout : tensor<?x4x8xf32>
}

// -----

// Partial rotary (Phi-3, partial_rotary_factor 0.5): cat(rope(x[..., :8]), x[..., 8:]) on
// heads of 16 rotates the first 8 channels: one op with head_dim 16 and rotary_dim 8.
// CHECK-LABEL: func.func @partial_rotary
// CHECK: vgcu.rotary_embedding %{{.*}} neox {head_dim = 16 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
// CHECK-NOT: vgcu.concat
func.func @partial_rotary(%pos: tensor<?xi64>, %qf: tensor<?x4x16xf32>, %kf: tensor<?x2x16xf32>) -> (tensor<?x4x16xf32>, tensor<?x2x16xf32>) {
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %q = vgcu.slice %qf {dim = -1 : i64, start = 0 : i64, end = 8 : i64} : tensor<?x4x16xf32> -> tensor<?x4x8xf32>
  %qpass = vgcu.slice %qf {dim = -1 : i64, start = 8 : i64, end = 16 : i64} : tensor<?x4x16xf32> -> tensor<?x4x8xf32>
  %qlo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qhi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %qneg = vgcu.neg %qhi : tensor<?x4x4xf32>
  %qrot = vgcu.concat %qneg, %qlo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %qxc = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrs = vgcu.mul %qrot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qrope = vgcu.add %qxc, %qrs : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %qout = vgcu.concat %qrope, %qpass {dim = -1 : i64} : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x16xf32>
  %k = vgcu.slice %kf {dim = -1 : i64, start = 0 : i64, end = 8 : i64} : tensor<?x2x16xf32> -> tensor<?x2x8xf32>
  %kpass = vgcu.slice %kf {dim = -1 : i64, start = 8 : i64, end = 16 : i64} : tensor<?x2x16xf32> -> tensor<?x2x8xf32>
  %klo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %khi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %kneg = vgcu.neg %khi : tensor<?x2x4xf32>
  %krot = vgcu.concat %kneg, %klo {dim = -1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x2x8xf32>
  %kxc = vgcu.mul %k, %c : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krs = vgcu.mul %krot, %s : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %krope = vgcu.add %kxc, %krs : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>
  %kout = vgcu.concat %krope, %kpass {dim = -1 : i64} : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x16xf32>
  return %qout, %kout : tensor<?x4x16xf32>, tensor<?x2x16xf32>
}

// -----

// ChatGLM's rotation: pairs (x0, x1) of the first half of each head turned by a stacked
// (cos, sin) cache, stack([x0·c − x1·s, x1·c + x0·s], -1).flatten(-2), the other half passed
// through: a GPT-J-style rotary over rotary_dim 8 of head_dim 16.
// CHECK-LABEL: func.func @rotary_pairwise_stacked_cache
// CHECK-SAME: (%[[POS:[a-z0-9]+]]: tensor<?xi64>, %[[Q:[a-z0-9]+]]: tensor<?x4x16xf32>)
// CHECK-NOT: vgcu.cos
// CHECK: %[[QF:.*]] = vgcu.reshape %[[Q]] : tensor<?x4x16xf32> -> tensor<?x64xf32>
// CHECK: %[[OUT:.*]], %{{.*}} = vgcu.rotary_embedding %[[POS]], %[[QF]], %[[QF]] gptj {head_dim = 16 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64}
// CHECK-NOT: vgcu.sin
func.func @rotary_pairwise_stacked_cache(%pos: tensor<?xi64>, %q: tensor<?x4x16xf32>) -> tensor<?x4x16xf32> {
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %inv = vgcu.constant dense<[[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]]> : tensor<1x4xf32>
  %angles = vgcu.mul %pcol, %inv : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %cos = vgcu.cos %angles : tensor<?x4xf32>
  %sin = vgcu.sin %angles : tensor<?x4xf32>
  %cos1 = vgcu.reshape %cos : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %sin1 = vgcu.reshape %sin : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %cache = vgcu.concat %cos1, %sin1 {dim = 2 : i64} : (tensor<?x4x1xf32>, tensor<?x4x1xf32>) -> tensor<?x4x2xf32>
  %rot = vgcu.slice %q {dim = 2 : i64, start = 0 : i64, end = 8 : i64} : tensor<?x4x16xf32> -> tensor<?x4x8xf32>
  %pass = vgcu.slice %q {dim = 2 : i64, start = 8 : i64, end = 16 : i64} : tensor<?x4x16xf32> -> tensor<?x4x8xf32>
  %pairs = vgcu.reshape %rot : tensor<?x4x8xf32> -> tensor<?x4x4x2xf32>
  %heads = vgcu.reshape %cache : tensor<?x4x2xf32> -> tensor<?x1x4x2xf32>
  %x0s = vgcu.slice %pairs {dim = 3 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x4x4x2xf32> -> tensor<?x4x4x1xf32>
  %x0 = vgcu.reshape %x0s : tensor<?x4x4x1xf32> -> tensor<?x4x4xf32>
  %x1s = vgcu.slice %pairs {dim = 3 : i64, start = 1 : i64, end = 2 : i64} : tensor<?x4x4x2xf32> -> tensor<?x4x4x1xf32>
  %x1 = vgcu.reshape %x1s : tensor<?x4x4x1xf32> -> tensor<?x4x4xf32>
  %cs = vgcu.slice %heads {dim = 3 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x1x4x2xf32> -> tensor<?x1x4x1xf32>
  %c = vgcu.reshape %cs : tensor<?x1x4x1xf32> -> tensor<?x1x4xf32>
  %ss = vgcu.slice %heads {dim = 3 : i64, start = 1 : i64, end = 2 : i64} : tensor<?x1x4x2xf32> -> tensor<?x1x4x1xf32>
  %s = vgcu.reshape %ss : tensor<?x1x4x1xf32> -> tensor<?x1x4xf32>
  %x0c = vgcu.mul %x0, %c : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %x1s2 = vgcu.mul %x1, %s : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %real = vgcu.sub %x0c, %x1s2 : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x4xf32>
  %x1c = vgcu.mul %x1, %c : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %x0s2 = vgcu.mul %x0, %s : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %imag = vgcu.add %x1c, %x0s2 : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x4xf32>
  %real1 = vgcu.reshape %real : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %imag1 = vgcu.reshape %imag : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %stack = vgcu.concat %real1, %imag1 {dim = 3 : i64} : (tensor<?x4x4x1xf32>, tensor<?x4x4x1xf32>) -> tensor<?x4x4x2xf32>
  %flat = vgcu.reshape %stack : tensor<?x4x4x2xf32> -> tensor<?x4x8xf32>
  %out = vgcu.concat %flat, %pass {dim = 2 : i64} : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x16xf32>
  return %out : tensor<?x4x16xf32>
}

// -----

// The same with the signs of the sine terms swapped (a rotation the other way): left alone.
// CHECK-LABEL: func.func @no_rotary_pairwise_wrong_sign
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_pairwise_wrong_sign(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %inv = vgcu.constant dense<[[1.000000e+00, 1.000000e-01, 0.00999999977, 1.000000e-03]]> : tensor<1x4xf32>
  %angles = vgcu.mul %pcol, %inv : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %cos = vgcu.cos %angles : tensor<?x4xf32>
  %sin = vgcu.sin %angles : tensor<?x4xf32>
  %cos1 = vgcu.reshape %cos : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %sin1 = vgcu.reshape %sin : tensor<?x4xf32> -> tensor<?x4x1xf32>
  %cache = vgcu.concat %cos1, %sin1 {dim = 2 : i64} : (tensor<?x4x1xf32>, tensor<?x4x1xf32>) -> tensor<?x4x2xf32>
  %pairs = vgcu.reshape %q : tensor<?x4x8xf32> -> tensor<?x4x4x2xf32>
  %heads = vgcu.reshape %cache : tensor<?x4x2xf32> -> tensor<?x1x4x2xf32>
  %x0s = vgcu.slice %pairs {dim = 3 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x4x4x2xf32> -> tensor<?x4x4x1xf32>
  %x0 = vgcu.reshape %x0s : tensor<?x4x4x1xf32> -> tensor<?x4x4xf32>
  %x1s = vgcu.slice %pairs {dim = 3 : i64, start = 1 : i64, end = 2 : i64} : tensor<?x4x4x2xf32> -> tensor<?x4x4x1xf32>
  %x1 = vgcu.reshape %x1s : tensor<?x4x4x1xf32> -> tensor<?x4x4xf32>
  %cs = vgcu.slice %heads {dim = 3 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x1x4x2xf32> -> tensor<?x1x4x1xf32>
  %c = vgcu.reshape %cs : tensor<?x1x4x1xf32> -> tensor<?x1x4xf32>
  %ss = vgcu.slice %heads {dim = 3 : i64, start = 1 : i64, end = 2 : i64} : tensor<?x1x4x2xf32> -> tensor<?x1x4x1xf32>
  %s = vgcu.reshape %ss : tensor<?x1x4x1xf32> -> tensor<?x1x4xf32>
  %x0c = vgcu.mul %x0, %c : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %x1s2 = vgcu.mul %x1, %s : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %real = vgcu.add %x0c, %x1s2 : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x4xf32>
  %x1c = vgcu.mul %x1, %c : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %x0s2 = vgcu.mul %x0, %s : (tensor<?x4x4xf32>, tensor<?x1x4xf32>) -> tensor<?x4x4xf32>
  %imag = vgcu.sub %x1c, %x0s2 : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x4xf32>
  %real1 = vgcu.reshape %real : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %imag1 = vgcu.reshape %imag : tensor<?x4x4xf32> -> tensor<?x4x4x1xf32>
  %stack = vgcu.concat %real1, %imag1 {dim = 3 : i64} : (tensor<?x4x4x1xf32>, tensor<?x4x4x1xf32>) -> tensor<?x4x4x2xf32>
  %flat = vgcu.reshape %stack : tensor<?x4x4x2xf32> -> tensor<?x4x8xf32>
  return %flat : tensor<?x4x8xf32>
}
