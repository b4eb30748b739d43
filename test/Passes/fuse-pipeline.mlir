// vgcu-fuse-pipeline: a traced Llama decoder layer (all primitives) ends up as exactly the module-level ops vLLM's Llama uses.
// RUN: vgcu-opt %s --vgcu-fuse-pipeline --split-input-file | FileCheck %s

// One layer of a tiny Llama (f32): hidden 32, 4 query heads and 2 KV heads of head_dim 8,
// intermediate 64, vocabulary 128, rope theta 10000, rms_norm_eps 1e-6. The body is what
// LlamaForCausalLM.forward traces to, module by module (python/vgcu_ref/models.py).

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[IDS:[a-z0-9]+]]: tensor<?xi64>, %[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"})
// CHECK:      %[[H0:.*]] = vgcu.embedding %[[IDS]], %{{.*}} : tensor<?xi64>, tensor<128x32xf32> -> tensor<?x32xf32>
// CHECK:      %[[N1:.*]] = vgcu.rms_norm %[[H0]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x32xf32>, tensor<32xf32>
// CHECK:      %[[QKV:.*]] = vgcu.linear %[[N1]], %{{.*}} {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 32, 16, 16>} : tensor<?x32xf32>, tensor<64x32xf32> -> tensor<?x64xf32>
// CHECK-DAG:  %[[Q:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 32 : i64, start = 0 : i64{{.*}}}
// CHECK-DAG:  %[[K:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 48 : i64, start = 32 : i64{{.*}}}
// CHECK-DAG:  %[[V:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 64 : i64, start = 48 : i64{{.*}}}
// CHECK:      %[[QR:.*]], %[[KR:.*]] = vgcu.rotary_embedding %[[POS]], %[[Q]], %[[K]] neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x32xf32>, tensor<?x16xf32>
// CHECK:      %[[ATTN:.*]] = vgcu.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.35355338454246521 : f64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32> -> tensor<?x32xf32>
// CHECK:      %[[O:.*]] = vgcu.linear %[[ATTN]], %{{.*}} : tensor<?x32xf32>, tensor<32x32xf32> -> tensor<?x32xf32>
// CHECK:      %[[N2:.*]], %[[S2:.*]] = vgcu.add_rms_norm %[[O]], %[[H0]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK:      %[[GU:.*]] = vgcu.linear %[[N2]], %{{.*}} {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x32xf32>, tensor<128x32xf32> -> tensor<?x128xf32>
// CHECK:      %[[ACT:.*]] = vgcu.silu_and_mul %[[GU]] : tensor<?x128xf32> -> tensor<?x64xf32>
// CHECK:      %[[D:.*]] = vgcu.linear %[[ACT]], %{{.*}} : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
// CHECK:      %[[N3:.*]], %{{.*}} = vgcu.add_rms_norm %[[D]], %[[S2]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK:      return %[[N3]]

// No primitive of the spelled-out modules survives, in either function:
// RUN: vgcu-opt %s --vgcu-fuse-pipeline --split-input-file | FileCheck %s --check-prefix=PRIM
// PRIM-NOT: vgcu.pow
// PRIM-NOT: vgcu.mean
// PRIM-NOT: vgcu.rsqrt
// PRIM-NOT: vgcu.sqrt
// PRIM-NOT: vgcu.cos
// PRIM-NOT: vgcu.sin
// PRIM-NOT: vgcu.neg
// PRIM-NOT: vgcu.matmul
// PRIM-NOT: vgcu.softmax
// PRIM-NOT: vgcu.where
// PRIM-NOT: vgcu.compare
// PRIM-NOT: vgcu.broadcast
// PRIM-NOT: vgcu.sigmoid
// PRIM-NOT: vgcu.silu %
// PRIM-NOT: vgcu.concat
// PRIM-NOT: vgcu.cast
// PRIM-NOT: vgcu.mul
// PRIM-NOT: vgcu.add %
// PRIM-NOT: q_proj.weight"
// PRIM-NOT: gate_proj.weight"

// Exactly those, in that order, and nothing else: every vgcu op of the result except the
// parameters and the slices of the packed q/k/v, one per line. Any primitive left over
// (pow, mean, rsqrt, cos, sin, neg, matmul, softmax, where, compare, broadcast, silu, concat,
// mul, add, cast, transpose, reshape, ...) or an unpacked linear breaks the OPS-NEXT chain.
// RUN: vgcu-opt %s --vgcu-fuse-pipeline --split-input-file | grep -o -E "func\.func @[a-z0-9_]+|vgcu\.[a-z_]+" | grep -v -E "^vgcu\.(param|slice|name)$" | FileCheck %s --check-prefix=OPS
// OPS-LABEL: func.func @forward
// OPS-NEXT:  vgcu.embedding
// OPS-NEXT:  vgcu.rms_norm
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.rotary_embedding
// OPS-NEXT:  vgcu.attention
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.add_rms_norm
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.silu_and_mul
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.add_rms_norm
// OPS-NOT:   vgcu

func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64> {vgcu.name = "positions"}) -> tensor<?x32xf32> {
  // model.embed_tokens
  %embed = vgcu.param "model.embed_tokens.weight" : tensor<128x32xf32>
  %h0 = vgcu.embedding %ids, %embed : tensor<?xi64>, tensor<128x32xf32> -> tensor<?x32xf32>

  // model.rotary_emb: freqs = positions.float()[:, None] * inv_freq[None, :];
  // emb = cat(freqs, freqs); cos, sin
  %inv = vgcu.constant dense<[1.000000e+00, 1.000000e-01, 1.000000e-02, 1.000000e-03]> : tensor<4xf32>
  %pf = vgcu.cast %pos : tensor<?xi64> to tensor<?xf32>
  %pcol = vgcu.reshape %pf : tensor<?xf32> -> tensor<?x1xf32>
  %irow = vgcu.reshape %inv : tensor<4xf32> -> tensor<1x4xf32>
  %freqs = vgcu.mul %pcol, %irow : (tensor<?x1xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  %emb = vgcu.concat %freqs, %freqs {dim = -1 : i64} : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  %cos = vgcu.cos %emb : tensor<?x8xf32>
  %sin = vgcu.sin %emb : tensor<?x8xf32>

  // layers.0.input_layernorm: weight * (h * rsqrt(mean(h.pow(2), -1, keepdim) + eps))
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %ln1_w = vgcu.param "model.layers.0.input_layernorm.weight" : tensor<32xf32>
  %ln1_sq = vgcu.pow %h0, %two : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %ln1_var = vgcu.mean %ln1_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %ln1_ve = vgcu.add %ln1_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %ln1_r = vgcu.rsqrt %ln1_ve : tensor<?x1xf32>
  %ln1_h = vgcu.mul %h0, %ln1_r : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %n1 = vgcu.mul %ln1_w, %ln1_h : (tensor<32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>

  // layers.0.self_attn: q/k/v projections viewed as heads
  %wq = vgcu.param "model.layers.0.self_attn.q_proj.weight" : tensor<32x32xf32>
  %wk = vgcu.param "model.layers.0.self_attn.k_proj.weight" : tensor<16x32xf32>
  %wv = vgcu.param "model.layers.0.self_attn.v_proj.weight" : tensor<16x32xf32>
  %q2 = vgcu.linear %n1, %wq : tensor<?x32xf32>, tensor<32x32xf32> -> tensor<?x32xf32>
  %q = vgcu.reshape %q2 : tensor<?x32xf32> -> tensor<?x4x8xf32>
  %k2 = vgcu.linear %n1, %wk : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %k = vgcu.reshape %k2 : tensor<?x16xf32> -> tensor<?x2x8xf32>
  %v2 = vgcu.linear %n1, %wv : tensor<?x32xf32>, tensor<16x32xf32> -> tensor<?x16xf32>
  %v = vgcu.reshape %v2 : tensor<?x16xf32> -> tensor<?x2x8xf32>

  // apply_rotary(q) and apply_rotary(k): x * cos[:, None] + rotate_half(x) * sin[:, None]
  %c = vgcu.reshape %cos : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %s = vgcu.reshape %sin : tensor<?x8xf32> -> tensor<?x1x8xf32>
  %q_lo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %q_hi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xf32> -> tensor<?x4x4xf32>
  %q_neg = vgcu.neg %q_hi : tensor<?x4x4xf32>
  %q_rot = vgcu.concat %q_neg, %q_lo {dim = -1 : i64} : (tensor<?x4x4xf32>, tensor<?x4x4xf32>) -> tensor<?x4x8xf32>
  %q_c = vgcu.mul %q, %c : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %q_s = vgcu.mul %q_rot, %s : (tensor<?x4x8xf32>, tensor<?x1x8xf32>) -> tensor<?x4x8xf32>
  %qe = vgcu.add %q_c, %q_s : (tensor<?x4x8xf32>, tensor<?x4x8xf32>) -> tensor<?x4x8xf32>
  %k_lo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %k_hi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xf32> -> tensor<?x2x4xf32>
  %k_neg = vgcu.neg %k_hi : tensor<?x2x4xf32>
  %k_rot = vgcu.concat %k_neg, %k_lo {dim = -1 : i64} : (tensor<?x2x4xf32>, tensor<?x2x4xf32>) -> tensor<?x2x8xf32>
  %k_c = vgcu.mul %k, %c : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %k_s = vgcu.mul %k_rot, %s : (tensor<?x2x8xf32>, tensor<?x1x8xf32>) -> tensor<?x2x8xf32>
  %ke = vgcu.add %k_c, %k_s : (tensor<?x2x8xf32>, tensor<?x2x8xf32>) -> tensor<?x2x8xf32>

  // attend: repeat_kv, scores, causal mask, softmax, probs @ v
  %k_u = vgcu.reshape %ke : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %k_b = vgcu.broadcast %k_u : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %kr = vgcu.reshape %k_b : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %v_u = vgcu.reshape %v : tensor<?x2x8xf32> -> tensor<?x2x1x8xf32>
  %v_b = vgcu.broadcast %v_u : tensor<?x2x1x8xf32> -> tensor<?x2x2x8xf32>
  %vr = vgcu.reshape %v_b : tensor<?x2x2x8xf32> -> tensor<?x4x8xf32>
  %qt = vgcu.transpose %qe {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xf32> -> tensor<4x8x?xf32>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xf32>, tensor<4x8x?xf32> -> tensor<4x?x?xf32>
  %scale = vgcu.constant dense<0.353553385> : tensor<f32>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xf32>, tensor<f32>) -> tensor<4x?x?xf32>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %ninf = vgcu.constant dense<-3.40282347E+38> : tensor<f32>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %probs = vgcu.softmax %filled {dim = -1 : i64} : tensor<4x?x?xf32>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xf32> -> tensor<4x?x8xf32>
  %ctx = vgcu.matmul %probs, %vt : tensor<4x?x?xf32>, tensor<4x?x8xf32> -> tensor<4x?x8xf32>
  %ctx_t = vgcu.transpose %ctx {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xf32> -> tensor<?x4x8xf32>
  %ctx_f = vgcu.reshape %ctx_t : tensor<?x4x8xf32> -> tensor<?x32xf32>

  // o_proj and the residual add
  %wo = vgcu.param "model.layers.0.self_attn.o_proj.weight" : tensor<32x32xf32>
  %attn = vgcu.linear %ctx_f, %wo : tensor<?x32xf32>, tensor<32x32xf32> -> tensor<?x32xf32>
  %h1 = vgcu.add %h0, %attn : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>

  // layers.0.post_attention_layernorm
  %ln2_w = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<32xf32>
  %ln2_sq = vgcu.pow %h1, %two : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %ln2_var = vgcu.mean %ln2_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %ln2_ve = vgcu.add %ln2_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %ln2_r = vgcu.rsqrt %ln2_ve : tensor<?x1xf32>
  %ln2_h = vgcu.mul %h1, %ln2_r : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %n2 = vgcu.mul %ln2_w, %ln2_h : (tensor<32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>

  // layers.0.mlp: down_proj(silu(gate_proj(x)) * up_proj(x)), residual add
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<64x32xf32>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<64x32xf32>
  %wd = vgcu.param "model.layers.0.mlp.down_proj.weight" : tensor<32x64xf32>
  %gate = vgcu.linear %n2, %wg : tensor<?x32xf32>, tensor<64x32xf32> -> tensor<?x64xf32>
  %act = vgcu.silu %gate : tensor<?x64xf32>
  %up = vgcu.linear %n2, %wu : tensor<?x32xf32>, tensor<64x32xf32> -> tensor<?x64xf32>
  %gated = vgcu.mul %act, %up : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %mlp = vgcu.linear %gated, %wd : tensor<?x64xf32>, tensor<32x64xf32> -> tensor<?x32xf32>
  %h2 = vgcu.add %h1, %mlp : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>

  // model.norm
  %lnf_w = vgcu.param "model.norm.weight" : tensor<32xf32>
  %lnf_sq = vgcu.pow %h2, %two : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %lnf_var = vgcu.mean %lnf_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %lnf_ve = vgcu.add %lnf_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %lnf_r = vgcu.rsqrt %lnf_ve : tensor<?x1xf32>
  %lnf_h = vgcu.mul %h2, %lnf_r : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %out = vgcu.mul %lnf_w, %lnf_h : (tensor<32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %out : tensor<?x32xf32>
}

// -----

// The same layer in bf16, as HF computes it: RMSNorm upcast to f32 around the normalization,
// rotary tables computed in f32 and cast to bf16, scores scaled in bf16 (bf16's 1/sqrt(8) is
// 0.353515625) and filled with bf16's finfo.min, softmax(dtype=f32) cast back; and the
// variant spellings: post-attention norm with sqrt_div + mul_square + weight_first, the MLP
// with sigmoid_silu.

// CHECK-LABEL: func.func @forward_bf16
// CHECK-SAME: (%[[IDS:[a-z0-9]+]]: tensor<?xi64>, %[[POS:[a-z0-9]+]]: tensor<?xi64> {vgcu.name = "positions"})
// CHECK:      %[[H0:.*]] = vgcu.embedding %[[IDS]], %{{.*}} : tensor<?xi64>, tensor<128x32xbf16> -> tensor<?x32xbf16>
// CHECK:      %[[N1:.*]] = vgcu.rms_norm %[[H0]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64} : tensor<?x32xbf16>, tensor<32xbf16>
// CHECK:      %[[QKV:.*]] = vgcu.linear %[[N1]], %{{.*}} {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 32, 16, 16>} : tensor<?x32xbf16>, tensor<64x32xbf16> -> tensor<?x64xbf16>
// CHECK-DAG:  %[[Q:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 32 : i64, start = 0 : i64{{.*}}}
// CHECK-DAG:  %[[K:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 48 : i64, start = 32 : i64{{.*}}}
// CHECK-DAG:  %[[V:.*]] = vgcu.slice %[[QKV]] {dim = 1 : i64, end = 64 : i64, start = 48 : i64{{.*}}}
// CHECK:      %[[QR:.*]], %[[KR:.*]] = vgcu.rotary_embedding %[[POS]], %[[Q]], %[[K]] neox {head_dim = 8 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64} : tensor<?xi64>, tensor<?x32xbf16>, tensor<?x16xbf16>
// CHECK:      %[[ATTN:.*]] = vgcu.attention %[[QR]], %[[KR]], %[[V]] {causal, head_dim = 8 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 0.353515625 : f64} : tensor<?x32xbf16>, tensor<?x16xbf16>, tensor<?x16xbf16> -> tensor<?x32xbf16>
// CHECK:      %[[O:.*]] = vgcu.linear %[[ATTN]], %{{.*}} : tensor<?x32xbf16>, tensor<32x32xbf16> -> tensor<?x32xbf16>
// CHECK:      %[[N2:.*]], %[[S2:.*]] = vgcu.add_rms_norm %[[O]], %[[H0]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK:      %[[GU:.*]] = vgcu.linear %[[N2]], %{{.*}} {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x32xbf16>, tensor<128x32xbf16> -> tensor<?x128xbf16>
// CHECK:      %[[ACT:.*]] = vgcu.silu_and_mul %[[GU]] : tensor<?x128xbf16> -> tensor<?x64xbf16>
// CHECK:      %[[D:.*]] = vgcu.linear %[[ACT]], %{{.*}} : tensor<?x64xbf16>, tensor<32x64xbf16> -> tensor<?x32xbf16>
// CHECK:      %[[N3:.*]], %{{.*}} = vgcu.add_rms_norm %[[D]], %[[S2]], %{{.*}} {epsilon = 9.9999999747524271E-7 : f64}
// CHECK:      return %[[N3]]

// OPS-LABEL: func.func @forward_bf16
// OPS-NEXT:  vgcu.embedding
// OPS-NEXT:  vgcu.rms_norm
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.rotary_embedding
// OPS-NEXT:  vgcu.attention
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.add_rms_norm
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.silu_and_mul
// OPS-NEXT:  vgcu.linear
// OPS-NEXT:  vgcu.add_rms_norm
// OPS-NOT:   vgcu

func.func @forward_bf16(%ids: tensor<?xi64>, %pos: tensor<?xi64> {vgcu.name = "positions"}) -> tensor<?x32xbf16> {
  // model.embed_tokens
  %embed = vgcu.param "model.embed_tokens.weight" : tensor<128x32xbf16>
  %h0 = vgcu.embedding %ids, %embed : tensor<?xi64>, tensor<128x32xbf16> -> tensor<?x32xbf16>

  // model.rotary_emb: computed in f32, emb.cos().to(bf16), emb.sin().to(bf16)
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

  // layers.0.input_layernorm: h = x.float(); weight * (h * rsqrt(mean(h.pow(2)) + eps)).to(bf16)
  %two = vgcu.constant dense<2.0> : tensor<f32>
  %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
  %ln1_w = vgcu.param "model.layers.0.input_layernorm.weight" : tensor<32xbf16>
  %ln1_x = vgcu.cast %h0 : tensor<?x32xbf16> to tensor<?x32xf32>
  %ln1_sq = vgcu.pow %ln1_x, %two : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %ln1_var = vgcu.mean %ln1_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %ln1_ve = vgcu.add %ln1_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %ln1_r = vgcu.rsqrt %ln1_ve : tensor<?x1xf32>
  %ln1_h = vgcu.mul %ln1_x, %ln1_r : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %ln1_b = vgcu.cast %ln1_h : tensor<?x32xf32> to tensor<?x32xbf16>
  %n1 = vgcu.mul %ln1_w, %ln1_b : (tensor<32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>

  // layers.0.self_attn: q/k/v projections viewed as heads
  %wq = vgcu.param "model.layers.0.self_attn.q_proj.weight" : tensor<32x32xbf16>
  %wk = vgcu.param "model.layers.0.self_attn.k_proj.weight" : tensor<16x32xbf16>
  %wv = vgcu.param "model.layers.0.self_attn.v_proj.weight" : tensor<16x32xbf16>
  %q2 = vgcu.linear %n1, %wq : tensor<?x32xbf16>, tensor<32x32xbf16> -> tensor<?x32xbf16>
  %q = vgcu.reshape %q2 : tensor<?x32xbf16> -> tensor<?x4x8xbf16>
  %k2 = vgcu.linear %n1, %wk : tensor<?x32xbf16>, tensor<16x32xbf16> -> tensor<?x16xbf16>
  %k = vgcu.reshape %k2 : tensor<?x16xbf16> -> tensor<?x2x8xbf16>
  %v2 = vgcu.linear %n1, %wv : tensor<?x32xbf16>, tensor<16x32xbf16> -> tensor<?x16xbf16>
  %v = vgcu.reshape %v2 : tensor<?x16xbf16> -> tensor<?x2x8xbf16>

  // apply_rotary in bf16
  %c = vgcu.reshape %cos : tensor<?x8xbf16> -> tensor<?x1x8xbf16>
  %s = vgcu.reshape %sin : tensor<?x8xbf16> -> tensor<?x1x8xbf16>
  %q_lo = vgcu.slice %q {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x4x8xbf16> -> tensor<?x4x4xbf16>
  %q_hi = vgcu.slice %q {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x4x8xbf16> -> tensor<?x4x4xbf16>
  %q_neg = vgcu.neg %q_hi : tensor<?x4x4xbf16>
  %q_rot = vgcu.concat %q_neg, %q_lo {dim = -1 : i64} : (tensor<?x4x4xbf16>, tensor<?x4x4xbf16>) -> tensor<?x4x8xbf16>
  %q_c = vgcu.mul %q, %c : (tensor<?x4x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x4x8xbf16>
  %q_s = vgcu.mul %q_rot, %s : (tensor<?x4x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x4x8xbf16>
  %qe = vgcu.add %q_c, %q_s : (tensor<?x4x8xbf16>, tensor<?x4x8xbf16>) -> tensor<?x4x8xbf16>
  %k_lo = vgcu.slice %k {dim = -1 : i64, start = 0 : i64, end = 4 : i64} : tensor<?x2x8xbf16> -> tensor<?x2x4xbf16>
  %k_hi = vgcu.slice %k {dim = -1 : i64, start = 4 : i64, end = 8 : i64} : tensor<?x2x8xbf16> -> tensor<?x2x4xbf16>
  %k_neg = vgcu.neg %k_hi : tensor<?x2x4xbf16>
  %k_rot = vgcu.concat %k_neg, %k_lo {dim = -1 : i64} : (tensor<?x2x4xbf16>, tensor<?x2x4xbf16>) -> tensor<?x2x8xbf16>
  %k_c = vgcu.mul %k, %c : (tensor<?x2x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x2x8xbf16>
  %k_s = vgcu.mul %k_rot, %s : (tensor<?x2x8xbf16>, tensor<?x1x8xbf16>) -> tensor<?x2x8xbf16>
  %ke = vgcu.add %k_c, %k_s : (tensor<?x2x8xbf16>, tensor<?x2x8xbf16>) -> tensor<?x2x8xbf16>

  // attend: repeat_kv (expand_kv spelling), bf16 scores, softmax(dtype=f32).to(bf16)
  %k_u = vgcu.reshape %ke : tensor<?x2x8xbf16> -> tensor<?x2x1x8xbf16>
  %k_b = vgcu.broadcast %k_u : tensor<?x2x1x8xbf16> -> tensor<?x2x2x8xbf16>
  %kr = vgcu.reshape %k_b : tensor<?x2x2x8xbf16> -> tensor<?x4x8xbf16>
  %v_u = vgcu.reshape %v : tensor<?x2x8xbf16> -> tensor<?x2x1x8xbf16>
  %v_b = vgcu.broadcast %v_u : tensor<?x2x1x8xbf16> -> tensor<?x2x2x8xbf16>
  %vr = vgcu.reshape %v_b : tensor<?x2x2x8xbf16> -> tensor<?x4x8xbf16>
  %qt = vgcu.transpose %qe {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xbf16> -> tensor<4x?x8xbf16>
  %kt = vgcu.transpose %kr {permutation = array<i64: 1, 2, 0>} : tensor<?x4x8xbf16> -> tensor<4x8x?xbf16>
  %scores = vgcu.matmul %qt, %kt : tensor<4x?x8xbf16>, tensor<4x8x?xbf16> -> tensor<4x?x?xbf16>
  %scale = vgcu.constant dense<3.535160e-01> : tensor<bf16>
  %scaled = vgcu.mul %scores, %scale : (tensor<4x?x?xbf16>, tensor<bf16>) -> tensor<4x?x?xbf16>
  %kp = vgcu.reshape %pos : tensor<?xi64> -> tensor<1x?xi64>
  %qp = vgcu.reshape %pos : tensor<?xi64> -> tensor<?x1xi64>
  %masked = vgcu.compare gt, %kp, %qp : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %ninf = vgcu.constant dense<-3.389530e+38> : tensor<bf16>
  %filled = vgcu.where %masked, %ninf, %scaled : (tensor<?x?xi1>, tensor<bf16>, tensor<4x?x?xbf16>) -> tensor<4x?x?xbf16>
  %f32 = vgcu.cast %filled : tensor<4x?x?xbf16> to tensor<4x?x?xf32>
  %p32 = vgcu.softmax %f32 {dim = -1 : i64} : tensor<4x?x?xf32>
  %probs = vgcu.cast %p32 : tensor<4x?x?xf32> to tensor<4x?x?xbf16>
  %vt = vgcu.transpose %vr {permutation = array<i64: 1, 0, 2>} : tensor<?x4x8xbf16> -> tensor<4x?x8xbf16>
  %ctx = vgcu.matmul %probs, %vt : tensor<4x?x?xbf16>, tensor<4x?x8xbf16> -> tensor<4x?x8xbf16>
  %ctx_t = vgcu.transpose %ctx {permutation = array<i64: 1, 0, 2>} : tensor<4x?x8xbf16> -> tensor<?x4x8xbf16>
  %ctx_f = vgcu.reshape %ctx_t : tensor<?x4x8xbf16> -> tensor<?x32xbf16>

  // o_proj and the residual add
  %wo = vgcu.param "model.layers.0.self_attn.o_proj.weight" : tensor<32x32xbf16>
  %attn = vgcu.linear %ctx_f, %wo : tensor<?x32xbf16>, tensor<32x32xbf16> -> tensor<?x32xbf16>
  %h1 = vgcu.add %h0, %attn : (tensor<?x32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>

  // layers.0.post_attention_layernorm (variants sqrt_div, mul_square, weight_first)
  %ln2_w = vgcu.param "model.layers.0.post_attention_layernorm.weight" : tensor<32xbf16>
  %ln2_x = vgcu.cast %h1 : tensor<?x32xbf16> to tensor<?x32xf32>
  %ln2_sq = vgcu.mul %ln2_x, %ln2_x : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  %ln2_var = vgcu.mean %ln2_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %ln2_ve = vgcu.add %ln2_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %ln2_sd = vgcu.sqrt %ln2_ve : tensor<?x1xf32>
  %ln2_h = vgcu.div %ln2_x, %ln2_sd : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %ln2_b = vgcu.cast %ln2_h : tensor<?x32xf32> to tensor<?x32xbf16>
  %n2 = vgcu.mul %ln2_b, %ln2_w : (tensor<?x32xbf16>, tensor<32xbf16>) -> tensor<?x32xbf16>

  // layers.0.mlp with the sigmoid_silu variant: gate * sigmoid(gate) * up
  %wg = vgcu.param "model.layers.0.mlp.gate_proj.weight" : tensor<64x32xbf16>
  %wu = vgcu.param "model.layers.0.mlp.up_proj.weight" : tensor<64x32xbf16>
  %wd = vgcu.param "model.layers.0.mlp.down_proj.weight" : tensor<32x64xbf16>
  %gate = vgcu.linear %n2, %wg : tensor<?x32xbf16>, tensor<64x32xbf16> -> tensor<?x64xbf16>
  %sg = vgcu.sigmoid %gate : tensor<?x64xbf16>
  %act = vgcu.mul %gate, %sg : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %up = vgcu.linear %n2, %wu : tensor<?x32xbf16>, tensor<64x32xbf16> -> tensor<?x64xbf16>
  %gated = vgcu.mul %act, %up : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %mlp = vgcu.linear %gated, %wd : tensor<?x64xbf16>, tensor<32x64xbf16> -> tensor<?x32xbf16>
  %h2 = vgcu.add %h1, %mlp : (tensor<?x32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>

  // model.norm
  %lnf_w = vgcu.param "model.norm.weight" : tensor<32xbf16>
  %lnf_x = vgcu.cast %h2 : tensor<?x32xbf16> to tensor<?x32xf32>
  %lnf_sq = vgcu.pow %lnf_x, %two : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
  %lnf_var = vgcu.mean %lnf_sq {dims = array<i64: -1>, keepdim} : tensor<?x32xf32> -> tensor<?x1xf32>
  %lnf_ve = vgcu.add %lnf_var, %eps : (tensor<?x1xf32>, tensor<f32>) -> tensor<?x1xf32>
  %lnf_r = vgcu.rsqrt %lnf_ve : tensor<?x1xf32>
  %lnf_h = vgcu.mul %lnf_x, %lnf_r : (tensor<?x32xf32>, tensor<?x1xf32>) -> tensor<?x32xf32>
  %lnf_b = vgcu.cast %lnf_h : tensor<?x32xf32> to tensor<?x32xbf16>
  %out = vgcu.mul %lnf_w, %lnf_b : (tensor<32xbf16>, tensor<?x32xbf16>) -> tensor<?x32xbf16>
  return %out : tensor<?x32xbf16>
}
