// Round trip (custom and generic form) of every vgcu op through the parser, verifier and printer.
// RUN: vgcu-opt %s | vgcu-opt | FileCheck %s
// RUN: vgcu-opt %s --mlir-print-op-generic | vgcu-opt | FileCheck %s

// CHECK-LABEL: func.func @params
func.func @params() {
  // CHECK: vgcu.param "model.norm.weight" : tensor<64xf32>
  %0 = vgcu.param "model.norm.weight" : tensor<64xf32>
  // A weight stored quantized: GPTQ 4-bit groups of 128, DeepSeek-V3's FP8 blocks (defaults
  // are not printed).
  // CHECK: vgcu.param "model.layers.0.mlp.down_proj.weight"
  // CHECK-SAME: quant(<codes = uint4, block_cols = 128, zero_point = true, act_order = true>) : tensor<64x256xf16>
  %q = vgcu.param "model.layers.0.mlp.down_proj.weight"
         quant(#vgcu.quant<codes = uint4, block_rows = 1, block_cols = 128, zero_point = true,
                           act_order = true>) : tensor<64x256xf16>
  // CHECK: vgcu.param "model.layers.0.self_attn.o_proj.weight"
  // CHECK-SAME: shard(<dim = 1, tp = 2, segments = [256], units = [256]>) quant(<codes = fp8_e4m3, block_rows = 128, block_cols = 128>) : tensor<256x128xbf16>
  %f = vgcu.param "model.layers.0.self_attn.o_proj.weight"
         shard(#vgcu.shard<dim = 1, tp = 2, segments = [256], units = [256]>)
         quant(#vgcu.quant<codes = fp8_e4m3, block_rows = 128, block_cols = 128>) : tensor<256x128xbf16>
  // CHECK: vgcu.param "model.layers.0.self_attn.qkv_proj.weight"
  // CHECK-SAME: shard(<dim = 0, tp = 2, segments = [64, 32, 32], units = [4, 2, 2]>) : tensor<64x64xf32>
  %1 = vgcu.param "model.layers.0.self_attn.qkv_proj.weight"
         shard(#vgcu.shard<dim = 0, tp = 2, segments = [64, 32, 32], units = [4, 2, 2]>)
         : tensor<64x64xf32>
  // KV heads below the tensor-parallel size are replicated.
  // CHECK: vgcu.param "model.layers.0.self_attn.k_proj.weight"
  // CHECK-SAME: shard(<dim = 0, tp = 4, segments = [32], units = [2]>) : tensor<16x64xbf16>
  %2 = vgcu.param "model.layers.0.self_attn.k_proj.weight"
         shard(#vgcu.shard<dim = 0, tp = 4, segments = [32], units = [2]>) : tensor<16x64xbf16>
  // CHECK: vgcu.param "lm_head.weight"
  // CHECK-SAME: shard(<dim = 0, tp = 2, segments = [256], units = [256], valid = 250>) : tensor<128x64xf16>
  %3 = vgcu.param "lm_head.weight"
         shard(#vgcu.shard<dim = 0, tp = 2, segments = [256], units = [256], valid = 250>)
         : tensor<128x64xf16>
  // CHECK: vgcu.param "model.layers.0.mlp.down_proj.weight"
  // CHECK-SAME: shard(<dim = 1, tp = 2, segments = [128], units = [128]>) : tensor<64x64xf32>
  %4 = vgcu.param "model.layers.0.mlp.down_proj.weight"
         shard(#vgcu.shard<dim = 1, tp = 2, segments = [128], units = [128]>) : tensor<64x64xf32>
  // Stacked experts under expert parallelism: the rank's block of experts, then its tp cut
  // (ep_dim is printed only when it is not 0).
  // CHECK: vgcu.param "model.layers.0.mlp.experts.gate_up.weight"
  // CHECK-SAME: shard(<dim = 0, tp = 2, segments = [32, 32, 32, 32], units = [32, 32, 32, 32], ep = 2>) : tensor<64x64xf32>
  %5 = vgcu.param "model.layers.0.mlp.experts.gate_up.weight"
         shard(#vgcu.shard<dim = 0, tp = 2, segments = [32, 32, 32, 32], units = [32, 32, 32, 32], ep = 2>)
         : tensor<64x64xf32>
  // CHECK: vgcu.param "model.layers.0.mlp.experts.down.weight"
  // CHECK-SAME: shard(<dim = 1, tp = 2, segments = [32], units = [32], ep = 2>) : tensor<128x16xf32>
  %6 = vgcu.param "model.layers.0.mlp.experts.down.weight"
         shard(#vgcu.shard<dim = 1, tp = 2, segments = [32], units = [32], ep_dim = 0, ep = 2>)
         : tensor<128x16xf32>
  return
}

// CHECK-LABEL: func.func @linear
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[W:%[a-z0-9_]+]]: tensor<128x64xf32>, [[B:%[a-z0-9_]+]]: tensor<128xf32>, [[XB:%[a-z0-9_]+]]: tensor<2x?x64xbf16>, [[WB:%[a-z0-9_]+]]: tensor<32x64xbf16>)
func.func @linear(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf32>,
                  %xb: tensor<2x?x64xbf16>, %wb: tensor<32x64xbf16>) {
  // CHECK: vgcu.linear [[X]], [[W]] : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %0 = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.linear [[X]], [[W]], [[B]] : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %1 = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.linear [[X]], [[W]], [[B]] {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 32, 32>}
  // CHECK-SAME: : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %2 = vgcu.linear %x, %w, %b {packed_modules = ["q_proj", "k_proj", "v_proj"],
                               packed_sizes = array<i64: 64, 32, 32>}
       : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.linear [[X]], [[W]] {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 64, 64>}
  // CHECK-SAME: : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %3 = vgcu.linear %x, %w {packed_modules = ["gate_proj", "up_proj"],
                           packed_sizes = array<i64: 64, 64>}
       : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.linear [[XB]], [[WB]] : tensor<2x?x64xbf16>, tensor<32x64xbf16> -> tensor<2x?x32xbf16>
  %4 = vgcu.linear %xb, %wb : tensor<2x?x64xbf16>, tensor<32x64xbf16> -> tensor<2x?x32xbf16>
  return
}

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: ([[IDS:%[a-z0-9_]+]]: tensor<?xi64>, [[IDS32:%[a-z0-9_]+]]: tensor<?xi32>, [[T:%[a-z0-9_]+]]: tensor<256x64xf32>, [[TB:%[a-z0-9_]+]]: tensor<128x64xbf16>)
func.func @embedding(%ids: tensor<?xi64>, %ids32: tensor<?xi32>, %table: tensor<256x64xf32>,
                     %shard: tensor<128x64xbf16>) {
  // CHECK: vgcu.embedding [[IDS]], [[T]] : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
  %0 = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.embedding [[IDS32]], [[T]] : tensor<?xi32>, tensor<256x64xf32> -> tensor<?x64xf32>
  %1 = vgcu.embedding %ids32, %table : tensor<?xi32>, tensor<256x64xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.embedding [[IDS]], [[TB]] {vocab_parallel} : tensor<?xi64>, tensor<128x64xbf16> -> tensor<?x64xbf16>
  %2 = vgcu.embedding %ids, %shard {vocab_parallel}
       : tensor<?xi64>, tensor<128x64xbf16> -> tensor<?x64xbf16>
  return
}

// CHECK-LABEL: func.func @norms
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[R:%[a-z0-9_]+]]: tensor<?x64xf32>, [[W:%[a-z0-9_]+]]: tensor<64xf32>, [[XH:%[a-z0-9_]+]]: tensor<?x768xf16>, [[WH:%[a-z0-9_]+]]: tensor<768xf16>, [[BH:%[a-z0-9_]+]]: tensor<768xf16>)
func.func @norms(%x: tensor<?x64xf32>, %res: tensor<?x64xf32>, %w: tensor<64xf32>,
                 %xh: tensor<?x768xf16>, %wh: tensor<768xf16>, %bh: tensor<768xf16>) {
  // CHECK: vgcu.rms_norm [[X]], [[W]] {epsilon = 9.9999999999999995E-7 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %0 = vgcu.rms_norm %x, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  // An f32 weight over a bf16 input (Gemma: scaled in f32, rounded once).
  // CHECK: vgcu.rms_norm %{{.*}}, [[W]] {{.*}} : tensor<?x64xbf16>, tensor<64xf32>
  %xb = vgcu.cast %x : tensor<?x64xf32> to tensor<?x64xbf16>
  %nb = vgcu.rms_norm %xb, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xf32>
  // CHECK: %{{.*}}, %{{.*}} = vgcu.add_rms_norm [[X]], [[R]], [[W]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %normed, %sum = vgcu.add_rms_norm %x, %res, %w {epsilon = 1.0e-05 : f64}
                  : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: %{{.*}}, %{{.*}} = vgcu.all_reduce_add_rms_norm [[X]], [[R]], [[W]] {epsilon = 1.000000e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %normed2, %sum2 = vgcu.all_reduce_add_rms_norm %x, %res, %w {epsilon = 1.0e-05 : f64}
                    : tensor<?x64xf32>, tensor<64xf32>
  // CHECK: vgcu.layer_norm [[XH]], [[WH]], [[BH]] {epsilon = 1.000000e-05 : f64} : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  %1 = vgcu.layer_norm %xh, %wh, %bh {epsilon = 1.0e-05 : f64}
       : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  // CHECK: %{{.*}}, %{{.*}} = vgcu.add_layer_norm [[XH]], [[XH]], [[WH]], [[BH]] {epsilon = 1.000000e-05 : f64} : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  %normed3, %sum3 = vgcu.add_layer_norm %xh, %xh, %wh, %bh {epsilon = 1.0e-05 : f64}
                    : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  // CHECK: %{{.*}}, %{{.*}} = vgcu.all_reduce_add_layer_norm [[XH]], [[XH]], [[WH]], [[BH]] {epsilon = 1.000000e-05 : f64} : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  %normed4, %sum4 = vgcu.all_reduce_add_layer_norm %xh, %xh, %wh, %bh {epsilon = 1.0e-05 : f64}
                    : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf16>
  return
}

// CHECK-LABEL: func.func @rotary
// CHECK-SAME: ([[P:%[a-z0-9_]+]]: tensor<?xi64>, [[Q:%[a-z0-9_]+]]: tensor<?x64xf32>, [[K:%[a-z0-9_]+]]: tensor<?x32xf32>, [[P32:%[a-z0-9_]+]]: tensor<?xi32>, [[QB:%[a-z0-9_]+]]: tensor<?x256xbf16>, [[KB:%[a-z0-9_]+]]: tensor<?x64xbf16>)
func.func @rotary(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>,
                  %pos32: tensor<?xi32>, %qb: tensor<?x256xbf16>, %kb: tensor<?x64xbf16>) {
  // CHECK: vgcu.rotary_embedding [[P]], [[Q]], [[K]] neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.000000e+04 : f64}
  // CHECK-SAME: : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  %q1, %k1 = vgcu.rotary_embedding %pos, %q, %k neox
               {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
             : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  // Partial rotary (GPT-J rotates the first 16 of 64 channels).
  // CHECK: vgcu.rotary_embedding [[P32]], [[QB]], [[KB]] gptj {head_dim = 64 : i64, rotary_dim = 16 : i64, theta = 1.000000e+06 : f64}
  // CHECK-SAME: : tensor<?xi32>, tensor<?x256xbf16>, tensor<?x64xbf16>
  %q2, %k2 = vgcu.rotary_embedding %pos32, %qb, %kb gptj
               {head_dim = 64 : i64, rotary_dim = 16 : i64, theta = 1.0e+06 : f64}
             : tensor<?xi32>, tensor<?x256xbf16>, tensor<?x64xbf16>
  // Rope scaling; parameters at their defaults are left out when printed.
  // CHECK: rope_scaling = #vgcu.rope<type = llama3, factor = 8.000000e+00, original_max_positions = 8192, low_freq_factor = 2.000000e+00>
  %q3, %k3 = vgcu.rotary_embedding %pos, %q, %k neox
               {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 5.0e+05 : f64,
                rope_scaling = #vgcu.rope<type = llama3, factor = 8.0, low_freq_factor = 2.0,
                                          high_freq_factor = 4.0, original_max_positions = 8192>}
             : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  // CHECK: rope_scaling = #vgcu.rope<type = yarn, factor = 4.000000e+00, original_max_positions = 4096, beta_fast = 1.600000e+01, truncate = false, attention_factor = 1.1386289999999999>
  %q4, %k4 = vgcu.rotary_embedding %pos, %q, %k neox
               {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64,
                rope_scaling = #vgcu.rope<type = yarn, factor = 4.0, original_max_positions = 4096,
                                          beta_fast = 16.0, truncate = false,
                                          attention_factor = 1.138629>}
             : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  // CHECK: rope_scaling = #vgcu.rope<type = longrope, original_max_positions = 4096, attention_factor = 1.1902379999999999, short_factor = [1.000000e+00, 1.500000e+00], long_factor = [2.000000e+00, 4.000000e+00]>
  %q5, %k5 = vgcu.rotary_embedding %pos, %q, %k neox
               {head_dim = 16 : i64, rotary_dim = 4 : i64, theta = 1.0e+04 : f64,
                rope_scaling = #vgcu.rope<type = longrope, original_max_positions = 4096,
                                          attention_factor = 1.190238,
                                          short_factor = [1.0, 1.5],
                                          long_factor = [2.0, 4.0]>}
             : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  // A traced model's own frequency table, scaled cos/sin included.
  // CHECK: rope_scaling = #vgcu.rope<type = precomputed, attention_factor = 1.500000e+00, frequencies = [1.000000e+00, 1.250000e-01]>
  %q6, %k6 = vgcu.rotary_embedding %pos, %q, %k neox
               {head_dim = 16 : i64, rotary_dim = 4 : i64, theta = 1.0e+04 : f64,
                rope_scaling = #vgcu.rope<type = precomputed, attention_factor = 1.5,
                                          frequencies = [1.0, 0.125]>}
             : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// CHECK-LABEL: func.func @attention
// CHECK-SAME: ([[Q:%[a-z0-9_]+]]: tensor<?x64xf32>, [[K:%[a-z0-9_]+]]: tensor<?x32xf32>, [[V:%[a-z0-9_]+]]: tensor<?x32xf32>, [[QH:%[a-z0-9_]+]]: tensor<?x64xf16>)
func.func @attention(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>,
                     %qh: tensor<?x64xf16>) {
  // CHECK: vgcu.attention [[Q]], [[K]], [[V]] {causal, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64}
  // CHECK-SAME: : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64,
         head_dim = 16 : i64, scale = 0.25 : f64, causal}
       : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.attention [[Q]], [[K]], [[V]] {causal, head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64, sliding_window = 4096 : i64}
  // CHECK-SAME: : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  %1 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64,
         head_dim = 16 : i64, scale = 0.25 : f64, causal, sliding_window = 4096 : i64}
       : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  // Non-causal multi-head attention (num_kv_heads == num_heads) in f16.
  // CHECK: vgcu.attention [[QH]], [[QH]], [[QH]] {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 4 : i64, scale = 2.500000e-01 : f64}
  // CHECK-SAME: : tensor<?x64xf16>, tensor<?x64xf16>, tensor<?x64xf16> -> tensor<?x64xf16>
  %2 = vgcu.attention %qh, %qh, %qh {num_heads = 4 : i64, num_kv_heads = 4 : i64,
         head_dim = 16 : i64, scale = 0.25 : f64}
       : tensor<?x64xf16>, tensor<?x64xf16>, tensor<?x64xf16> -> tensor<?x64xf16>
  return
}

// CHECK-LABEL: func.func @gated
// CHECK-SAME: ([[GU:%[a-z0-9_]+]]: tensor<?x256xf32>, [[GB:%[a-z0-9_]+]]: tensor<?x512xbf16>)
func.func @gated(%gu: tensor<?x256xf32>, %gb: tensor<?x512xbf16>) {
  // CHECK: vgcu.silu_and_mul [[GU]] : tensor<?x256xf32> -> tensor<?x128xf32>
  %0 = vgcu.silu_and_mul %gu : tensor<?x256xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.gelu_and_mul [[GU]] none : tensor<?x256xf32> -> tensor<?x128xf32>
  %1 = vgcu.gelu_and_mul %gu none : tensor<?x256xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.gelu_and_mul [[GB]] tanh : tensor<?x512xbf16> -> tensor<?x256xbf16>
  %2 = vgcu.gelu_and_mul %gb tanh : tensor<?x512xbf16> -> tensor<?x256xbf16>
  return
}

// CHECK-LABEL: func.func @collectives
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[L:%[a-z0-9_]+]]: tensor<?x128xbf16>)
func.func @collectives(%x: tensor<?x64xf32>, %l: tensor<?x128xbf16>) {
  // CHECK: vgcu.all_reduce [[X]] : tensor<?x64xf32>
  %0 = vgcu.all_reduce %x : tensor<?x64xf32>
  // CHECK: vgcu.all_reduce [[X]] group expert : tensor<?x64xf32>
  %e = vgcu.all_reduce %x group expert : tensor<?x64xf32>
  // CHECK: vgcu.all_gather [[L]] {dim = 1 : i64, world_size = 2 : i64} : tensor<?x128xbf16> -> tensor<?x256xbf16>
  %1 = vgcu.all_gather %l {dim = 1 : i64, world_size = 2 : i64}
       : tensor<?x128xbf16> -> tensor<?x256xbf16>
  // CHECK: vgcu.all_gather [[L]] {dim = -1 : i64, world_size = 4 : i64} : tensor<?x128xbf16> -> tensor<?x512xbf16>
  %2 = vgcu.all_gather %l {dim = -1 : i64, world_size = 4 : i64}
       : tensor<?x128xbf16> -> tensor<?x512xbf16>
  return
}

// CHECK-LABEL: func.func @constants
func.func @constants() {
  // CHECK: vgcu.constant dense<1.000000e+00> : tensor<f32>
  %0 = vgcu.constant dense<1.0> : tensor<f32>
  // CHECK: vgcu.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %1 = vgcu.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  // CHECK: vgcu.constant dense<[true, false]> : tensor<2xi1>
  %2 = vgcu.constant dense<[true, false]> : tensor<2xi1>
  // CHECK: vgcu.constant dense<0xFF80> : tensor<bf16>
  %3 = vgcu.constant dense<0xFF80> : tensor<bf16>
  // CHECK: vgcu.constant dense<5.000000e-01> : tensor<1x64xf16>
  %4 = vgcu.constant dense<0.5> : tensor<1x64xf16>
  // CHECK: vgcu.constant dense<7> : tensor<i32>
  %5 = vgcu.constant dense<7> : tensor<i32>
  return
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME: ([[A:%[a-z0-9_]+]]: tensor<?x64xf32>, [[S:%[a-z0-9_]+]]: tensor<f32>, [[R:%[a-z0-9_]+]]: tensor<64xf32>, [[C:%[a-z0-9_]+]]: tensor<?x1xf32>, [[I:%[a-z0-9_]+]]: tensor<?xi64>, [[M1:%[a-z0-9_]+]]: tensor<?x?xi1>, [[M2:%[a-z0-9_]+]]: tensor<1x?xi1>, [[H:%[a-z0-9_]+]]: tensor<?x64xbf16>)
func.func @binary(%a: tensor<?x64xf32>, %s: tensor<f32>, %r: tensor<64xf32>, %c: tensor<?x1xf32>,
                  %i: tensor<?xi64>, %m1: tensor<?x?xi1>, %m2: tensor<1x?xi1>,
                  %h: tensor<?x64xbf16>) {
  // CHECK: vgcu.add [[A]], [[S]] : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  %0 = vgcu.add %a, %s : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
  // CHECK: vgcu.sub [[A]], [[R]] : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %1 = vgcu.sub %a, %r : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // CHECK: vgcu.mul [[A]], [[C]] : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  %2 = vgcu.mul %a, %c : (tensor<?x64xf32>, tensor<?x1xf32>) -> tensor<?x64xf32>
  // CHECK: vgcu.div [[C]], [[R]] : (tensor<?x1xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %3 = vgcu.div %c, %r : (tensor<?x1xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  // CHECK: vgcu.pow [[H]], [[H]] : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %4 = vgcu.pow %h, %h : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  // CHECK: vgcu.maximum [[I]], [[I]] : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  %5 = vgcu.maximum %i, %i : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  // CHECK: vgcu.or [[M1]], [[M2]] : (tensor<?x?xi1>, tensor<1x?xi1>) -> tensor<?x?xi1>
  %6 = vgcu.or %m1, %m2 : (tensor<?x?xi1>, tensor<1x?xi1>) -> tensor<?x?xi1>
  return
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[H:%[a-z0-9_]+]]: tensor<?x64xbf16>, [[F:%[a-z0-9_]+]]: tensor<?x1xf16>, [[I:%[a-z0-9_]+]]: tensor<?xi64>)
func.func @unary(%x: tensor<?x64xf32>, %h: tensor<?x64xbf16>, %f: tensor<?x1xf16>,
                 %i: tensor<?xi64>) {
  // CHECK: vgcu.neg [[I]] : tensor<?xi64>
  %0 = vgcu.neg %i : tensor<?xi64>
  // CHECK: vgcu.rsqrt [[F]] : tensor<?x1xf16>
  %1 = vgcu.rsqrt %f : tensor<?x1xf16>
  // CHECK: vgcu.sqrt [[F]] : tensor<?x1xf16>
  %2 = vgcu.sqrt %f : tensor<?x1xf16>
  // CHECK: vgcu.exp [[X]] : tensor<?x64xf32>
  %3 = vgcu.exp %x : tensor<?x64xf32>
  // CHECK: vgcu.cos [[X]] : tensor<?x64xf32>
  %4 = vgcu.cos %x : tensor<?x64xf32>
  // CHECK: vgcu.sin [[X]] : tensor<?x64xf32>
  %5 = vgcu.sin %x : tensor<?x64xf32>
  // CHECK: vgcu.sigmoid [[H]] : tensor<?x64xbf16>
  %6 = vgcu.sigmoid %h : tensor<?x64xbf16>
  // CHECK: vgcu.tanh [[H]] : tensor<?x64xbf16>
  %7 = vgcu.tanh %h : tensor<?x64xbf16>
  // CHECK: vgcu.silu [[X]] : tensor<?x64xf32>
  %8 = vgcu.silu %x : tensor<?x64xf32>
  // CHECK: vgcu.relu [[X]] : tensor<?x64xf32>
  %9 = vgcu.relu %x : tensor<?x64xf32>
  // CHECK: vgcu.gelu [[X]] none : tensor<?x64xf32>
  %10 = vgcu.gelu %x none : tensor<?x64xf32>
  // CHECK: vgcu.gelu [[H]] tanh : tensor<?x64xbf16>
  %11 = vgcu.gelu %h tanh : tensor<?x64xbf16>
  return
}

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: ([[Q:%[a-z0-9_]+]]: tensor<4x?x16xf32>, [[KT:%[a-z0-9_]+]]: tensor<4x16x?xf32>, [[P:%[a-z0-9_]+]]: tensor<4x?x?xf32>, [[V:%[a-z0-9_]+]]: tensor<1x?x16xf32>, [[X:%[a-z0-9_]+]]: tensor<?x64xbf16>, [[W:%[a-z0-9_]+]]: tensor<64x32xbf16>)
func.func @matmul(%q: tensor<4x?x16xf32>, %kt: tensor<4x16x?xf32>, %p: tensor<4x?x?xf32>,
                  %v: tensor<1x?x16xf32>, %x: tensor<?x64xbf16>, %w: tensor<64x32xbf16>) {
  // CHECK: vgcu.matmul [[Q]], [[KT]] : tensor<4x?x16xf32>, tensor<4x16x?xf32> -> tensor<4x?x?xf32>
  %0 = vgcu.matmul %q, %kt : tensor<4x?x16xf32>, tensor<4x16x?xf32> -> tensor<4x?x?xf32>
  // CHECK: vgcu.matmul [[P]], [[V]] : tensor<4x?x?xf32>, tensor<1x?x16xf32> -> tensor<4x?x16xf32>
  %1 = vgcu.matmul %p, %v : tensor<4x?x?xf32>, tensor<1x?x16xf32> -> tensor<4x?x16xf32>
  // CHECK: vgcu.matmul [[X]], [[W]] : tensor<?x64xbf16>, tensor<64x32xbf16> -> tensor<?x32xbf16>
  %2 = vgcu.matmul %x, %w : tensor<?x64xbf16>, tensor<64x32xbf16> -> tensor<?x32xbf16>
  return
}

// CHECK-LABEL: func.func @reductions
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[S:%[a-z0-9_]+]]: tensor<4x?x?xbf16>)
func.func @reductions(%x: tensor<?x64xf32>, %s: tensor<4x?x?xbf16>) {
  // CHECK: vgcu.mean [[X]] {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  %0 = vgcu.mean %x {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  // CHECK: vgcu.mean [[X]] {dims = array<i64: 1>} : tensor<?x64xf32> -> tensor<?xf32>
  %1 = vgcu.mean %x {dims = array<i64: 1>} : tensor<?x64xf32> -> tensor<?xf32>
  // CHECK: vgcu.sum [[S]] {dims = array<i64: 0, 2>, keepdim} : tensor<4x?x?xbf16> -> tensor<1x?x1xbf16>
  %2 = vgcu.sum %s {dims = array<i64: 0, 2>, keepdim} : tensor<4x?x?xbf16> -> tensor<1x?x1xbf16>
  // CHECK: vgcu.sum [[X]] {dims = array<i64: 0, 1>} : tensor<?x64xf32> -> tensor<f32>
  %3 = vgcu.sum %x {dims = array<i64: 0, 1>} : tensor<?x64xf32> -> tensor<f32>
  return
}

// CHECK-LABEL: func.func @softmax
// CHECK-SAME: ([[S:%[a-z0-9_]+]]: tensor<4x?x?xf32>, [[H:%[a-z0-9_]+]]: tensor<?x64xf16>)
func.func @softmax(%s: tensor<4x?x?xf32>, %h: tensor<?x64xf16>) {
  // CHECK: vgcu.softmax [[S]] {dim = -1 : i64} : tensor<4x?x?xf32>
  %0 = vgcu.softmax %s {dim = -1 : i64} : tensor<4x?x?xf32>
  // CHECK: vgcu.softmax [[H]] {dim = 1 : i64} : tensor<?x64xf16>
  %1 = vgcu.softmax %h {dim = 1 : i64} : tensor<?x64xf16>
  return
}

// CHECK-LABEL: func.func @data_movement
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[H:%[a-z0-9_]+]]: tensor<?x4x16xf32>, [[KV:%[a-z0-9_]+]]: tensor<2x1x?x16xbf16>, [[M:%[a-z0-9_]+]]: tensor<?x?xi1>, [[I:%[a-z0-9_]+]]: tensor<?xi64>)
func.func @data_movement(%x: tensor<?x64xf32>, %h: tensor<?x4x16xf32>,
                         %kv: tensor<2x1x?x16xbf16>, %m: tensor<?x?xi1>, %i: tensor<?xi64>) {
  // CHECK: vgcu.transpose [[H]] {permutation = array<i64: 1, 0, 2>} : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
  %0 = vgcu.transpose %h {permutation = array<i64: 1, 0, 2>}
       : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
  // CHECK: vgcu.transpose [[M]] {permutation = array<i64: 1, 0>} : tensor<?x?xi1> -> tensor<?x?xi1>
  %1 = vgcu.transpose %m {permutation = array<i64: 1, 0>} : tensor<?x?xi1> -> tensor<?x?xi1>
  // CHECK: vgcu.reshape [[X]] : tensor<?x64xf32> -> tensor<?x4x16xf32>
  %2 = vgcu.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
  // CHECK: vgcu.reshape [[H]] : tensor<?x4x16xf32> -> tensor<?x64xf32>
  %3 = vgcu.reshape %h : tensor<?x4x16xf32> -> tensor<?x64xf32>
  // The token dimension may move, with the static part absorbing a whole factor.
  // CHECK: vgcu.reshape [[X]] : tensor<?x64xf32> -> tensor<2x?x32xf32>
  %4 = vgcu.reshape %x : tensor<?x64xf32> -> tensor<2x?x32xf32>
  // CHECK: vgcu.reshape [[I]] : tensor<?xi64> -> tensor<1x?xi64>
  %5 = vgcu.reshape %i : tensor<?xi64> -> tensor<1x?xi64>
  // CHECK: vgcu.broadcast [[KV]] : tensor<2x1x?x16xbf16> -> tensor<2x4x?x16xbf16>
  %6 = vgcu.broadcast %kv : tensor<2x1x?x16xbf16> -> tensor<2x4x?x16xbf16>
  // CHECK: vgcu.broadcast [[X]] : tensor<?x64xf32> -> tensor<4x?x64xf32>
  %7 = vgcu.broadcast %x : tensor<?x64xf32> -> tensor<4x?x64xf32>
  return
}

// CHECK-LABEL: func.func @slice_concat_gather
// CHECK-SAME: ([[QKV:%[a-z0-9_]+]]: tensor<?x128xf32>, [[A:%[a-z0-9_]+]]: tensor<?x8xbf16>, [[B:%[a-z0-9_]+]]: tensor<?x8xbf16>, [[T:%[a-z0-9_]+]]: tensor<4096x16xf32>, [[P:%[a-z0-9_]+]]: tensor<?xi64>, [[P32:%[a-z0-9_]+]]: tensor<?xi32>)
func.func @slice_concat_gather(%qkv: tensor<?x128xf32>, %a: tensor<?x8xbf16>, %b: tensor<?x8xbf16>,
                               %table: tensor<4096x16xf32>, %pos: tensor<?xi64>,
                               %pos32: tensor<?xi32>) {
  // CHECK: vgcu.slice [[QKV]] {dim = 1 : i64, end = 64 : i64, start = 0 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %0 = vgcu.slice %qkv {dim = 1 : i64, start = 0 : i64, end = 64 : i64}
       : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.slice [[QKV]] {dim = -1 : i64, end = 128 : i64, start = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %1 = vgcu.slice %qkv {dim = -1 : i64, start = 64 : i64, end = 128 : i64, step = 1 : i64}
       : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.slice [[QKV]] {dim = 1 : i64, end = 128 : i64, start = 1 : i64, step = 2 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  %2 = vgcu.slice %qkv {dim = 1 : i64, start = 1 : i64, end = 128 : i64, step = 2 : i64}
       : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.slice [[QKV]] {dim = 0 : i64, end = 5 : i64, start = 2 : i64} : tensor<?x128xf32> -> tensor<3x128xf32>
  %3 = vgcu.slice %qkv {dim = 0 : i64, start = 2 : i64, end = 5 : i64}
       : tensor<?x128xf32> -> tensor<3x128xf32>
  // CHECK: vgcu.concat [[A]], [[B]] {dim = 1 : i64} : (tensor<?x8xbf16>, tensor<?x8xbf16>) -> tensor<?x16xbf16>
  %4 = vgcu.concat %a, %b {dim = 1 : i64} : (tensor<?x8xbf16>, tensor<?x8xbf16>) -> tensor<?x16xbf16>
  // CHECK: vgcu.concat [[A]], [[B]], [[A]] {dim = 0 : i64} : (tensor<?x8xbf16>, tensor<?x8xbf16>, tensor<?x8xbf16>) -> tensor<?x8xbf16>
  %5 = vgcu.concat %a, %b, %a {dim = 0 : i64}
       : (tensor<?x8xbf16>, tensor<?x8xbf16>, tensor<?x8xbf16>) -> tensor<?x8xbf16>
  // CHECK: vgcu.gather [[T]], [[P]] {dim = 0 : i64} : tensor<4096x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  %6 = vgcu.gather %table, %pos {dim = 0 : i64}
       : tensor<4096x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  // CHECK: vgcu.gather [[QKV]], [[P32]] {dim = -1 : i64} : tensor<?x128xf32>, tensor<?xi32> -> tensor<?x?xf32>
  %7 = vgcu.gather %qkv, %pos32 {dim = -1 : i64}
       : tensor<?x128xf32>, tensor<?xi32> -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @compare_where_cast
// CHECK-SAME: ([[KP:%[a-z0-9_]+]]: tensor<1x?xi64>, [[QP:%[a-z0-9_]+]]: tensor<?x1xi64>, [[X:%[a-z0-9_]+]]: tensor<?x64xf32>, [[S:%[a-z0-9_]+]]: tensor<f32>, [[SC:%[a-z0-9_]+]]: tensor<4x?x?xf32>, [[M:%[a-z0-9_]+]]: tensor<?x?xi1>, [[H:%[a-z0-9_]+]]: tensor<?x64xbf16>)
func.func @compare_where_cast(%kpos: tensor<1x?xi64>, %qpos: tensor<?x1xi64>, %x: tensor<?x64xf32>,
                              %ninf: tensor<f32>, %scores: tensor<4x?x?xf32>, %mask: tensor<?x?xi1>,
                              %h: tensor<?x64xbf16>) {
  // CHECK: vgcu.compare eq, [[KP]], [[QP]] : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %0 = vgcu.compare eq, %kpos, %qpos : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  // CHECK: vgcu.compare ne, [[KP]], [[QP]] : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %1 = vgcu.compare ne, %kpos, %qpos : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  // CHECK: vgcu.compare lt, [[X]], [[S]] : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xi1>
  %2 = vgcu.compare lt, %x, %ninf : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xi1>
  // CHECK: vgcu.compare le, [[X]], [[X]] : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xi1>
  %3 = vgcu.compare le, %x, %x : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xi1>
  // CHECK: vgcu.compare gt, [[KP]], [[QP]] : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  %4 = vgcu.compare gt, %kpos, %qpos : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
  // CHECK: vgcu.compare ge, [[M]], [[M]] : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  %5 = vgcu.compare ge, %mask, %mask : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  // CHECK: vgcu.where [[M]], [[S]], [[SC]] : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  %6 = vgcu.where %mask, %ninf, %scores
       : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
  // CHECK: vgcu.where [[M]], [[KP]], [[QP]] : (tensor<?x?xi1>, tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi64>
  %7 = vgcu.where %mask, %kpos, %qpos
       : (tensor<?x?xi1>, tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi64>
  // CHECK: vgcu.cast [[H]] : tensor<?x64xbf16> to tensor<?x64xf32>
  %8 = vgcu.cast %h : tensor<?x64xbf16> to tensor<?x64xf32>
  // CHECK: vgcu.cast [[X]] : tensor<?x64xf32> to tensor<?x64xf16>
  %9 = vgcu.cast %x : tensor<?x64xf32> to tensor<?x64xf16>
  // CHECK: vgcu.cast [[M]] : tensor<?x?xi1> to tensor<?x?xf32>
  %10 = vgcu.cast %mask : tensor<?x?xi1> to tensor<?x?xf32>
  // CHECK: vgcu.cast [[KP]] : tensor<1x?xi64> to tensor<1x?xi32>
  %11 = vgcu.cast %kpos : tensor<1x?xi64> to tensor<1x?xi32>
  return
}

// CHECK-LABEL: func.func @fused_forms
func.func @fused_forms(%pos: tensor<?xi64>, %x: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %qsl: tensor<?xi64>, %qsl3: tensor<3xi64>) {
  %gu = vgcu.param "mlp.gate_up_proj.weight" : tensor<256x64xf32>
  %down = vgcu.param "mlp.down_proj.weight" : tensor<64x128xf32>
  %qn = vgcu.param "q_norm.weight" : tensor<16xf32>
  %kn = vgcu.param "k_norm.weight" : tensor<16xf32>
  // CHECK: vgcu.linear {{.*}} epilogue silu_and_mul : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x128xf32>
  %h = vgcu.linear %x, %gu epilogue silu_and_mul : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x128xf32>
  // CHECK: vgcu.linear {{.*}} residual({{.*}} : tensor<?x64xf32>) : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  %y = vgcu.linear %h, %down residual(%x : tensor<?x64xf32>) : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.rotary_attention {{.*}} qk_norm({{.*}} : tensor<16xf32>, tensor<16xf32>) gptj {causal, head_dim = 16 : i64, norm_epsilon = 9.9999999999999995E-7 : f64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 8 : i64, scale = 2.500000e-01 : f64, theta = 1.000000e+04 : f64}
  %o = vgcu.rotary_attention %pos, %x, %k, %v qk_norm(%qn, %kn : tensor<16xf32>, tensor<16xf32>) gptj {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, rotary_dim = 8 : i64, theta = 1.0e+04 : f64, norm_epsilon = 1.0e-06 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK: vgcu.last_token {{.*}} : tensor<?x64xf32>, tensor<?xi64> -> tensor<?x64xf32>
  %l = vgcu.last_token %o, %qsl : tensor<?x64xf32>, tensor<?xi64> -> tensor<?x64xf32>
  // Three query start offsets delimit two sequences: two rows.
  // CHECK: vgcu.last_token {{.*}} : tensor<?x64xf32>, tensor<3xi64> -> tensor<2x64xf32>
  %l2 = vgcu.last_token %o, %qsl3 : tensor<?x64xf32>, tensor<3xi64> -> tensor<2x64xf32>
  return
}

// Gemma 2's ops: sandwich norms (and their all-reduce form), the soft cap, soft-capped
// attention scores and a soft-capping LM head.
// CHECK-LABEL: func.func @gemma2
func.func @gemma2(%x: tensor<?x64xbf16>, %res: tensor<?x64xbf16>, %q: tensor<?x64xbf16>,
                  %k: tensor<?x32xbf16>, %v: tensor<?x32xbf16>) {
  %w1 = vgcu.param "a.weight" : tensor<64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64xf32>
  // CHECK: vgcu.norm_add_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, post_epsilon = 9.9999999999999995E-7 : f64} : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
  %n1, %s1 = vgcu.norm_add_norm %x, %res, %w1, %w2 {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
             : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
  // CHECK: vgcu.all_reduce_norm_add_norm
  %n2, %s2 = vgcu.all_reduce_norm_add_norm %x, %res, %w1, %w2 {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
             : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
  // CHECK: vgcu.soft_cap %{{.*}} {cap = 3.000000e+01 : f64} : tensor<?x64xbf16>
  %c = vgcu.soft_cap %x {cap = 30.0 : f64} : tensor<?x64xbf16>
  // CHECK: vgcu.attention {{.*}} softcap = 5.000000e+01 : f64
  %o = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64,
                                  scale = 0.0625 : f64, causal, sliding_window = 4096 : i64,
                                  softcap = 50.0 : f64}
       : tensor<?x64xbf16>, tensor<?x32xbf16>, tensor<?x32xbf16> -> tensor<?x64xbf16>
  %head = vgcu.param "model.embed_tokens.weight" : tensor<250x64xbf16>
  // CHECK: vgcu.linear {{.*}} {soft_cap = 3.000000e+01 : f64} : tensor<?x64xbf16>, tensor<250x64xbf16> -> tensor<?x250xbf16>
  %l = vgcu.linear %x, %head {soft_cap = 30.0 : f64} : tensor<?x64xbf16>, tensor<250x64xbf16> -> tensor<?x250xbf16>
  return
}

// CHECK-LABEL: func.func @mixture_of_experts
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: tensor<?x64xf32>)
func.func @mixture_of_experts(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %gate = vgcu.param "model.layers.0.mlp.gate.weight" : tensor<8x64xf32>
  %gate_up = vgcu.param "model.layers.0.mlp.experts.gate_up.weight" : tensor<512x64xf32>
  %down = vgcu.param "model.layers.0.mlp.experts.down.weight" : tensor<512x32xf32>
  // CHECK: [[W:%.*]], [[IDS:%.*]] = vgcu.moe_router [[X]], %{{.*}} {renormalize, top_k = 2 : i64} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  %w, %ids = vgcu.moe_router %x, %gate {top_k = 2 : i64, renormalize} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  // CHECK: vgcu.moe_experts [[X]], [[W]], [[IDS]], %{{.*}}, %{{.*}} {expert_modules = ["gate_proj", "up_proj", "down_proj"], num_experts = 8 : i64}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64, expert_modules = ["gate_proj", "up_proj", "down_proj"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>) -> tensor<?x64xf32>
  // Qwen2-MoE's shared expert and its gate.
  %sgu = vgcu.param "model.layers.0.mlp.shared_expert.gate_up_proj.weight" : tensor<128x64xf32>
  %sd = vgcu.param "model.layers.0.mlp.shared_expert.down_proj.weight" : tensor<64x64xf32>
  %sg = vgcu.param "model.layers.0.mlp.shared_expert_gate.weight" : tensor<1x64xf32>
  // CHECK: vgcu.moe_experts [[X]], [[W]], [[IDS]], %{{.*}}, %{{.*}} shared(%{{.*}}, %{{.*}}) shared_gate(%{{.*}}) {expert_modules
  %z = vgcu.moe_experts %x, %w, %ids, %gate_up, %down shared(%sgu, %sd) shared_gate(%sg) {num_experts = 8 : i64, expert_modules = ["gate_proj", "up_proj", "down_proj"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>, tensor<128x64xf32>, tensor<64x64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  // DeepSeek-V3's MoEGate: sigmoid scores, correction bias, groups by their two best, f32
  // weights; DeepSeekMoE's shared experts have no gate.
  %bias = vgcu.param "model.layers.0.mlp.gate.e_score_correction_bias" : tensor<8xf32>
  // CHECK: %[[W3:.*]], %[[I3:.*]] = vgcu.moe_router [[X]], %{{.*}} bias(%{{.*}} : tensor<8xf32>) scoring sigmoid group_score top2_sum {num_groups = 4 : i64, renormalize, route_in_f32, scaling_factor = 2.500000e+00 : f64, top_k = 2 : i64, topk_groups = 2 : i64}
  %w3, %ids3 = vgcu.moe_router %x, %gate bias(%bias : tensor<8xf32>) scoring sigmoid group_score top2_sum {top_k = 2 : i64, renormalize, num_groups = 4 : i64, topk_groups = 2 : i64, scaling_factor = 2.5 : f64, route_in_f32} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  // CHECK: vgcu.moe_experts [[X]], %[[W3]], %[[I3]], %{{.*}}, %{{.*}} shared(%{{.*}}, %{{.*}}) {expert_modules
  %d = vgcu.moe_experts %x, %w3, %ids3, %gate_up, %down shared(%sgu, %sd) {num_experts = 8 : i64, expert_modules = ["gate_proj", "up_proj", "down_proj"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>, tensor<128x64xf32>, tensor<64x64xf32>) -> tensor<?x64xf32>
  // A traced router's primitives: top-k of the probabilities, scattered into a dense matrix.
  // CHECK: %[[V:.*]], %[[I:.*]] = vgcu.topk %{{.*}} {k = 2 : i64} : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  // CHECK: vgcu.scatter %{{.*}}, %[[I]], %[[V]] {dim = 1 : i64} : tensor<?x8xf32>, tensor<?x2xi64>, tensor<?x2xf32>
  %probs = vgcu.linear %x, %gate : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x8xf32>
  %tv, %ti = vgcu.topk %probs {k = 2 : i64} : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  %dense = vgcu.scatter %probs, %ti, %tv {dim = 1 : i64} : tensor<?x8xf32>, tensor<?x2xi64>, tensor<?x2xf32>
  // Two of the eight experts on this rank (expert parallelism over 4 groups).
  %gate_up4 = vgcu.param "model.layers.0.mlp.experts.gate_up.weight" : tensor<128x64xf32>
  %down4 = vgcu.param "model.layers.0.mlp.experts.down.weight" : tensor<128x32xf32>
  // CHECK: vgcu.moe_experts {{.*}} {expert_modules = ["gate_proj", "up_proj", "down_proj"], expert_parallel = 4 : i64, num_experts = 8 : i64}
  %p = vgcu.moe_experts %x, %w, %ids, %gate_up4, %down4 {num_experts = 8 : i64, expert_parallel = 4 : i64, expert_modules = ["gate_proj", "up_proj", "down_proj"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<128x64xf32>, tensor<128x32xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// Multi-head latent attention over the latent KV cache.
// CHECK-LABEL: func.func @mla
func.func @mla(%pos: tensor<?xi64>, %q: tensor<?x96xbf16>, %c: tensor<?x32xbf16>, %kpe: tensor<?x8xbf16>) -> tensor<?x64xbf16> {
  %kvb = vgcu.param "model.layers.0.self_attn.kv_b_proj.weight" : tensor<128x32xbf16>
  // CHECK: vgcu.mla_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, rope_scaling = #vgcu.rope<type = yarn, factor = 4.000000e+00, original_max_positions = 16>, scale = 2.000000e-01 : f64, theta = 1.000000e+04 : f64, v_head_dim = 16 : i64} : (tensor<?xi64>, tensor<?x96xbf16>, tensor<?x32xbf16>, tensor<?x8xbf16>, tensor<128x32xbf16>) -> tensor<?x64xbf16>
  %o = vgcu.mla_attention %pos, %q, %c, %kpe, %kvb {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = yarn, factor = 4.0, original_max_positions = 16>} : (tensor<?xi64>, tensor<?x96xbf16>, tensor<?x32xbf16>, tensor<?x8xbf16>, tensor<128x32xbf16>) -> tensor<?x64xbf16>
  return %o : tensor<?x64xbf16>
}
