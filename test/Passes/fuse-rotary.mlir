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

// inv_freq = [1, 0.1, 0.02, 0.001] is not a geometric series theta^(-2i/d).
// CHECK-LABEL: func.func @no_rotary_inv_freq_not_geometric
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.constant dense<[1.000000e+00, 1.000000e-01, 2.000000e-02, 1.000000e-03]>
// CHECK: vgcu.cos
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_inv_freq_not_geometric(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
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

// Linear rope scaling (inv_freq / 2): geometric, but not theta^(-2i/d) (which starts at 1), and
// vgcu.rotary_embedding has no scaling factor.
// CHECK-LABEL: func.func @no_rotary_scaled_inv_freq
// CHECK-NOT: vgcu.rotary_embedding
// CHECK: vgcu.cos
// CHECK: vgcu.add
// CHECK-NOT: vgcu.rotary_embedding
func.func @no_rotary_scaled_inv_freq(%pos: tensor<?xi64>, %q: tensor<?x4x8xf32>) -> tensor<?x4x8xf32> {
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
