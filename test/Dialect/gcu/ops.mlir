// Round trip (custom and generic form) of every gcu op through the parser, verifier and printer.
// RUN: vgcu-opt %s | vgcu-opt | FileCheck %s
// RUN: vgcu-opt %s --mlir-print-op-generic | vgcu-opt | FileCheck %s

// CHECK-LABEL: func.func @buffers
// CHECK-SAME: ([[IDS:%[a-z0-9_]+]]: memref<?xi64>, [[N:%[a-z0-9_]+]]: index)
func.func @buffers(%ids: memref<?xi64>, %n: index) {
  // CHECK: gcu.weight "model.layers.0.self_attn.qkv_proj.weight" : memref<128x64xf32>
  %0 = gcu.weight "model.layers.0.self_attn.qkv_proj.weight" : memref<128x64xf32>
  // CHECK: gcu.weight "model.norm.weight" : memref<64xbf16>
  %1 = gcu.weight "model.norm.weight" : memref<64xbf16>
  // CHECK: gcu.constant dense<2> : tensor<i64> -> memref<i64>
  %2 = gcu.constant dense<2> : tensor<i64> -> memref<i64>
  // CHECK: gcu.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf16> -> memref<2xf16>
  %3 = gcu.constant dense<[1.0, 2.0]> : tensor<2xf16> -> memref<2xf16>
  // CHECK: gcu.constant dense<true> : tensor<1x1xi1> -> memref<1x1xi1>
  %4 = gcu.constant dense<true> : tensor<1x1xi1> -> memref<1x1xi1>
  // CHECK: [[T:%.+]] = gcu.dim [[IDS]], 0 : memref<?xi64>
  %tokens = gcu.dim %ids, 0 : memref<?xi64>
  // CHECK: gcu.alloc([[T]]) {slot = 3 : i64} : memref<?x64xf32>
  %5 = gcu.alloc(%tokens) {slot = 3 : i64} : memref<?x64xf32>
  // CHECK: gcu.alloc([[T]], [[N]]) : memref<4x?x?xbf16>
  %6 = gcu.alloc(%tokens, %n) : memref<4x?x?xbf16>
  // CHECK: gcu.alloc() : memref<8x16xi32>
  %7 = gcu.alloc() : memref<8x16xi32>
  // CHECK: gcu.alloc([[T]], [[T]]) : memref<?x?xi1>
  %8 = gcu.alloc(%tokens, %tokens) : memref<?x?xi1>
  // CHECK: gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>
  // CHECK: gcu.kv_cache {layer = 31 : i64} : memref<?x16x8x128xbf16>
  %kc1, %vc1 = gcu.kv_cache {layer = 31 : i64} : memref<?x16x8x128xbf16>
  return
}

// CHECK-LABEL: func.func @views
// CHECK-SAME: ([[QKV:%[a-z0-9_]+]]: memref<?x128xf32>, [[H:%[a-z0-9_]+]]: memref<?x64xf32>, [[Q:%[a-z0-9_]+]]: memref<?x4x16xf32>, [[KV:%[a-z0-9_]+]]: memref<2x1x?x16xbf16>, [[M:%[a-z0-9_]+]]: memref<?x?xi1>, [[QSL:%[a-z0-9_]+]]: memref<?xi64>, [[QSL3:%[a-z0-9_]+]]: memref<3xi64>)
func.func @views(%qkv: memref<?x128xf32>, %hidden: memref<?x64xf32>, %q: memref<?x4x16xf32>,
                 %kv: memref<2x1x?x16xbf16>, %mask: memref<?x?xi1>, %qsl: memref<?xi64>,
                 %qsl3: memref<3xi64>) {
  // CHECK: gcu.slice_view [[QKV]] {dim = 1 : i64, end = 64 : i64, start = 0 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  %0 = gcu.slice_view %qkv {dim = 1 : i64, start = 0 : i64, end = 64 : i64}
       : memref<?x128xf32> -> memref<?x64xf32>
  // CHECK: gcu.slice_view [[QKV]] {dim = -1 : i64, end = 128 : i64, start = 0 : i64, step = 2 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  %1 = gcu.slice_view %qkv {dim = -1 : i64, start = 0 : i64, end = 128 : i64, step = 2 : i64}
       : memref<?x128xf32> -> memref<?x64xf32>
  // CHECK: gcu.last_token_view [[H]], [[QSL]] : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf32>
  %2 = gcu.last_token_view %hidden, %qsl : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf32>
  // Three query start offsets delimit two sequences: two rows.
  // CHECK: gcu.last_token_view [[H]], [[QSL3]] : memref<?x64xf32>, memref<3xi64> -> memref<2x64xf32>
  %9 = gcu.last_token_view %hidden, %qsl3 : memref<?x64xf32>, memref<3xi64> -> memref<2x64xf32>
  // CHECK: gcu.reshape_view [[H]] : memref<?x64xf32> -> memref<?x4x16xf32>
  %3 = gcu.reshape_view %hidden : memref<?x64xf32> -> memref<?x4x16xf32>
  // CHECK: gcu.reshape_view [[Q]] : memref<?x4x16xf32> -> memref<?x64xf32>
  %4 = gcu.reshape_view %q : memref<?x4x16xf32> -> memref<?x64xf32>
  // CHECK: gcu.transpose_view [[Q]] {permutation = array<i64: 1, 0, 2>} : memref<?x4x16xf32> -> memref<4x?x16xf32>
  %5 = gcu.transpose_view %q {permutation = array<i64: 1, 0, 2>}
       : memref<?x4x16xf32> -> memref<4x?x16xf32>
  // CHECK: gcu.transpose_view [[M]] {permutation = array<i64: 1, 0>} : memref<?x?xi1> -> memref<?x?xi1>
  %6 = gcu.transpose_view %mask {permutation = array<i64: 1, 0>} : memref<?x?xi1> -> memref<?x?xi1>
  // CHECK: gcu.broadcast_view [[KV]] : memref<2x1x?x16xbf16> -> memref<2x4x?x16xbf16>
  %7 = gcu.broadcast_view %kv : memref<2x1x?x16xbf16> -> memref<2x4x?x16xbf16>
  // CHECK: gcu.broadcast_view [[H]] : memref<?x64xf32> -> memref<4x?x64xf32>
  %8 = gcu.broadcast_view %hidden : memref<?x64xf32> -> memref<4x?x64xf32>
  return
}

// CHECK-LABEL: func.func @embedding
// CHECK-SAME: ([[IDS:%[a-z0-9_]+]]: memref<?xi64>, [[IDS32:%[a-z0-9_]+]]: memref<?xi32>, [[T:%[a-z0-9_]+]]: memref<256x64xf32>, [[TB:%[a-z0-9_]+]]: memref<128x64xbf16>, [[H:%[a-z0-9_]+]]: memref<?x64xf32>, [[HB:%[a-z0-9_]+]]: memref<?x64xbf16>)
func.func @embedding(%ids: memref<?xi64>, %ids32: memref<?xi32>, %table: memref<256x64xf32>,
                     %shard: memref<128x64xbf16>, %h: memref<?x64xf32>, %hb: memref<?x64xbf16>) {
  // CHECK: gcu.embedding ins([[IDS]], [[T]] : memref<?xi64>, memref<256x64xf32>) outs([[H]] : memref<?x64xf32>)
  gcu.embedding ins(%ids, %table : memref<?xi64>, memref<256x64xf32>) outs(%h : memref<?x64xf32>)
  // CHECK: gcu.embedding ins([[IDS32]], [[TB]] : memref<?xi32>, memref<128x64xbf16>) outs([[HB]] : memref<?x64xbf16>) {vocab_parallel}
  gcu.embedding ins(%ids32, %shard : memref<?xi32>, memref<128x64xbf16>)
                outs(%hb : memref<?x64xbf16>) {vocab_parallel}
  return
}

// CHECK-LABEL: func.func @quant_gemm
func.func @quant_gemm(%x: memref<?x64xf32>, %c4: memref<128x32xi8>, %s: memref<128x4xf32>,
                      %z: memref<128x4xf32>, %g: memref<64xi32>, %y: memref<?x128xf32>,
                      %c8: memref<128x64xi8>, %sb: memref<1x1xf32>, %h: memref<?x64xf32>,
                      %b: memref<128xf32>) {
  // CHECK: gcu.quant_gemm ins(%{{.*}}, %{{.*}} : memref<?x64xf32>, memref<128x32xi8>) scales(%{{.*}} : memref<128x4xf32>) zeros(%{{.*}} : memref<128x4xf32>) outs(%{{.*}} : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true>{{$}}
  gcu.quant_gemm ins(%x, %c4 : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>)
                 zeros(%z : memref<128x4xf32>) outs(%y : memref<?x128xf32>)
                 quant <codes = uint4, block_cols = 16, zero_point = true>
  // CHECK: gcu.quant_gemm {{.*}} g_idx(%{{.*}} : memref<64xi32>) outs(%{{.*}} : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true, act_order = true>
  gcu.quant_gemm ins(%x, %c4 : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>)
                 zeros(%z : memref<128x4xf32>) g_idx(%g : memref<64xi32>)
                 outs(%y : memref<?x128xf32>)
                 quant <codes = uint4, block_cols = 16, zero_point = true, act_order = true>
  // One FP8 scale for the whole weight, a bias and a gated epilogue.
  // CHECK: gcu.quant_gemm {{.*}} scales(%{{.*}} : memref<1x1xf32>) bias(%{{.*}} : memref<128xf32>) outs(%{{.*}} : memref<?x64xf32>) epilogue silu_and_mul quant <codes = fp8_e4m3, block_rows = 0>
  gcu.quant_gemm ins(%x, %c8 : memref<?x64xf32>, memref<128x64xi8>) scales(%sb : memref<1x1xf32>)
                 bias(%b : memref<128xf32>) outs(%h : memref<?x64xf32>) epilogue silu_and_mul
                 quant <codes = fp8_e4m3, block_rows = 0, block_cols = 0>
  return
}

// CHECK-LABEL: func.func @quant_fused_moe
func.func @quant_fused_moe(%x: memref<?x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>,
                           %gu: memref<256x32xi8>, %gus: memref<256x4xf32>, %guz: memref<256x4xf32>,
                           %d: memref<512x8xi8>, %ds: memref<512x1xf32>, %dz: memref<512x1xf32>,
                           %sgu: memref<32x64xf32>, %sd: memref<64x16xf32>, %y: memref<?x64xf32>) {
  // CHECK: gcu.quant_fused_moe ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>) gate_up(%{{.*}}, %{{.*}} zeros %{{.*}} : memref<256x32xi8>, memref<256x4xf32>, memref<256x4xf32>) down(%{{.*}}, %{{.*}} zeros %{{.*}} : memref<512x8xi8>, memref<512x1xf32>, memref<512x1xf32>) shared(%{{.*}}, %{{.*}} : memref<32x64xf32>, memref<64x16xf32>) outs(%{{.*}} : memref<?x64xf32>) {num_experts = 8 : i64} quant <codes = uint4, block_cols = 16, zero_point = true>
  gcu.quant_fused_moe ins(%x, %w, %ids : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>)
      gate_up(%gu, %gus zeros %guz : memref<256x32xi8>, memref<256x4xf32>, memref<256x4xf32>)
      down(%d, %ds zeros %dz : memref<512x8xi8>, memref<512x1xf32>, memref<512x1xf32>)
      shared(%sgu, %sd : memref<32x64xf32>, memref<64x16xf32>)
      outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
      quant <codes = uint4, block_cols = 16, zero_point = true>
  return
}

// CHECK-LABEL: func.func @gemm
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: memref<?x64xf32>, [[W:%[a-z0-9_]+]]: memref<256x64xf32>, [[B:%[a-z0-9_]+]]: memref<256xf32>, [[Y:%[a-z0-9_]+]]: memref<?x256xf32>, [[Y2:%[a-z0-9_]+]]: memref<?x128xf32>, [[R:%[a-z0-9_]+]]: memref<?x256xf32>, [[XB:%[a-z0-9_]+]]: memref<2x?x64xbf16>, [[WB:%[a-z0-9_]+]]: memref<32x64xbf16>, [[YB:%[a-z0-9_]+]]: memref<2x?x32xbf16>, [[WD:%[a-z0-9_]+]]: memref<?x64xf32>, [[YD:%[a-z0-9_]+]]: memref<?x?xf32>)
func.func @gemm(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<256xf32>,
                %y: memref<?x256xf32>, %y2: memref<?x128xf32>, %r: memref<?x256xf32>,
                %xb: memref<2x?x64xbf16>, %wb: memref<32x64xbf16>, %yb: memref<2x?x32xbf16>,
                %wd: memref<?x64xf32>, %yd: memref<?x?xf32>) {
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) outs([[Y]] : memref<?x256xf32>){{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>)
  // The default epilogue is not printed.
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) outs([[Y]] : memref<?x256xf32>){{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>)
           epilogue none
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) bias([[B]] : memref<256xf32>) outs([[Y]] : memref<?x256xf32>){{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>)
           outs(%y : memref<?x256xf32>)
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) bias([[B]] : memref<256xf32>) residual([[R]] : memref<?x256xf32>) outs([[Y]] : memref<?x256xf32>) epilogue relu{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>)
           residual(%r : memref<?x256xf32>) outs(%y : memref<?x256xf32>) epilogue relu
  // A residual without a bias.
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) residual([[R]] : memref<?x256xf32>) outs([[Y]] : memref<?x256xf32>){{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) residual(%r : memref<?x256xf32>)
           outs(%y : memref<?x256xf32>)
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) residual([[R]] : memref<?x256xf32>) outs([[Y]] : memref<?x256xf32>) epilogue gelu_tanh{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) residual(%r : memref<?x256xf32>)
           outs(%y : memref<?x256xf32>) epilogue gelu_tanh
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) outs([[Y2]] : memref<?x128xf32>) epilogue silu_and_mul{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y2 : memref<?x128xf32>)
           epilogue silu_and_mul
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) outs([[Y2]] : memref<?x128xf32>) epilogue gelu_and_mul{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y2 : memref<?x128xf32>)
           epilogue gelu_and_mul
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) bias([[B]] : memref<256xf32>) outs([[Y2]] : memref<?x128xf32>) epilogue gelu_tanh_and_mul{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>)
           outs(%y2 : memref<?x128xf32>) epilogue gelu_tanh_and_mul
  // The residual of a gated epilogue has the halved width of the output.
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) bias([[B]] : memref<256xf32>) residual([[Y2]] : memref<?x128xf32>) outs([[Y2]] : memref<?x128xf32>) epilogue silu_and_mul{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>)
           residual(%y2 : memref<?x128xf32>) outs(%y2 : memref<?x128xf32>) epilogue silu_and_mul
  // CHECK: gcu.gemm ins([[X]], [[W]] : memref<?x64xf32>, memref<256x64xf32>) outs([[Y]] : memref<?x256xf32>) epilogue gelu{{$}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>)
           epilogue gelu
  // CHECK: gcu.gemm ins([[XB]], [[WB]] : memref<2x?x64xbf16>, memref<32x64xbf16>) outs([[YB]] : memref<2x?x32xbf16>) epilogue gelu_tanh{{$}}
  gcu.gemm ins(%xb, %wb : memref<2x?x64xbf16>, memref<32x64xbf16>) outs(%yb : memref<2x?x32xbf16>)
           epilogue gelu_tanh
  // A dynamic N: a gated epilogue leaves the output width dynamic.
  // CHECK: gcu.gemm ins([[X]], [[WD]] : memref<?x64xf32>, memref<?x64xf32>) outs([[YD]] : memref<?x?xf32>) epilogue silu_and_mul{{$}}
  gcu.gemm ins(%x, %wd : memref<?x64xf32>, memref<?x64xf32>) outs(%yd : memref<?x?xf32>)
           epilogue silu_and_mul
  // CHECK: gcu.gemm ins([[X]], [[WD]] : memref<?x64xf32>, memref<?x64xf32>) outs([[Y2]] : memref<?x128xf32>) epilogue gelu_and_mul{{$}}
  gcu.gemm ins(%x, %wd : memref<?x64xf32>, memref<?x64xf32>) outs(%y2 : memref<?x128xf32>)
           epilogue gelu_and_mul
  // CHECK: gcu.gemm ins([[X]], [[WD]] : memref<?x64xf32>, memref<?x64xf32>) bias([[B]] : memref<256xf32>) outs([[Y]] : memref<?x256xf32>){{$}}
  gcu.gemm ins(%x, %wd : memref<?x64xf32>, memref<?x64xf32>) bias(%b : memref<256xf32>)
           outs(%y : memref<?x256xf32>)
  return
}

// CHECK-LABEL: func.func @batch_matmul
// CHECK-SAME: ([[A:%[a-z0-9_]+]]: memref<4x?x16xf32>, [[B:%[a-z0-9_]+]]: memref<4x16x?xf32>, [[C:%[a-z0-9_]+]]: memref<4x?x?xf32>, [[V:%[a-z0-9_]+]]: memref<?x16xf32>, [[O:%[a-z0-9_]+]]: memref<4x?x16xf32>)
func.func @batch_matmul(%a: memref<4x?x16xf32>, %b: memref<4x16x?xf32>, %c: memref<4x?x?xf32>,
                        %v: memref<?x16xf32>, %o: memref<4x?x16xf32>) {
  // CHECK: gcu.batch_matmul ins([[A]], [[B]] : memref<4x?x16xf32>, memref<4x16x?xf32>) outs([[C]] : memref<4x?x?xf32>)
  gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<4x16x?xf32>) outs(%c : memref<4x?x?xf32>)
  // CHECK: gcu.batch_matmul ins([[C]], [[V]] : memref<4x?x?xf32>, memref<?x16xf32>) outs([[O]] : memref<4x?x16xf32>)
  gcu.batch_matmul ins(%c, %v : memref<4x?x?xf32>, memref<?x16xf32>) outs(%o : memref<4x?x16xf32>)
  return
}

// CHECK-LABEL: func.func @norms
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: memref<?x64xf32>, [[R:%[a-z0-9_]+]]: memref<?x64xf32>, [[W:%[a-z0-9_]+]]: memref<64xf32>, [[Y:%[a-z0-9_]+]]: memref<?x64xf32>, [[XH:%[a-z0-9_]+]]: memref<?x768xf16>, [[WH:%[a-z0-9_]+]]: memref<768xf16>, [[BH:%[a-z0-9_]+]]: memref<768xf16>, [[YH:%[a-z0-9_]+]]: memref<?x768xf16>)
func.func @norms(%x: memref<?x64xf32>, %res: memref<?x64xf32>, %w: memref<64xf32>,
                 %y: memref<?x64xf32>, %xh: memref<?x768xf16>, %wh: memref<768xf16>,
                 %bh: memref<768xf16>, %yh: memref<?x768xf16>) {
  // CHECK: gcu.rms_norm ins([[X]], [[W]] : memref<?x64xf32>, memref<64xf32>) outs([[Y]] : memref<?x64xf32>) {epsilon = 9.9999999999999995E-7 : f64}
  gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<64xf32>) outs(%y : memref<?x64xf32>)
               {epsilon = 1.0e-06 : f64}
  // CHECK: gcu.fused_add_rms_norm ins([[W]] : memref<64xf32>) inouts([[X]], [[R]] : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.000000e-05 : f64}
  gcu.fused_add_rms_norm ins(%w : memref<64xf32>)
                         inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>)
                         {epsilon = 1.0e-05 : f64}
  // CHECK: gcu.all_reduce_fused_add_rms_norm ins([[W]] : memref<64xf32>) inouts([[X]], [[R]] : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.000000e-05 : f64}
  gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf32>)
      inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.0e-05 : f64}
  // CHECK: gcu.layer_norm ins([[XH]], [[WH]], [[BH]] : memref<?x768xf16>, memref<768xf16>, memref<768xf16>) outs([[YH]] : memref<?x768xf16>) {epsilon = 1.000000e-05 : f64}
  gcu.layer_norm ins(%xh, %wh, %bh : memref<?x768xf16>, memref<768xf16>, memref<768xf16>)
                 outs(%yh : memref<?x768xf16>) {epsilon = 1.0e-05 : f64}
  // CHECK: gcu.fused_add_layer_norm ins([[WH]], [[BH]] : memref<768xf16>, memref<768xf16>) inouts([[XH]], [[YH]] : memref<?x768xf16>, memref<?x768xf16>) {epsilon = 1.000000e-05 : f64}
  gcu.fused_add_layer_norm ins(%wh, %bh : memref<768xf16>, memref<768xf16>)
                           inouts(%xh, %yh : memref<?x768xf16>, memref<?x768xf16>)
                           {epsilon = 1.0e-05 : f64}
  // CHECK: gcu.all_reduce_fused_add_layer_norm ins([[WH]], [[BH]] : memref<768xf16>, memref<768xf16>) inouts([[XH]], [[YH]] : memref<?x768xf16>, memref<?x768xf16>) {epsilon = 1.000000e-05 : f64}
  gcu.all_reduce_fused_add_layer_norm ins(%wh, %bh : memref<768xf16>, memref<768xf16>)
      inouts(%xh, %yh : memref<?x768xf16>, memref<?x768xf16>) {epsilon = 1.0e-05 : f64}
  return
}

// CHECK-LABEL: func.func @rotary_and_cache
// CHECK-SAME: ([[P:%[a-z0-9_]+]]: memref<?xi64>, [[Q:%[a-z0-9_]+]]: memref<?x64xf32>, [[K:%[a-z0-9_]+]]: memref<?x32xf32>, [[V:%[a-z0-9_]+]]: memref<?x32xf32>, [[S:%[a-z0-9_]+]]: memref<?xi64>, [[KC:%[a-z0-9_]+]]: memref<?x64x2x16xf32>, [[VC:%[a-z0-9_]+]]: memref<?x64x2x16xf32>, [[P32:%[a-z0-9_]+]]: memref<?xi32>, [[QB:%[a-z0-9_]+]]: memref<?x256xbf16>, [[KB:%[a-z0-9_]+]]: memref<?x64xbf16>)
func.func @rotary_and_cache(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>,
                            %v: memref<?x32xf32>, %slots: memref<?xi64>,
                            %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>,
                            %pos32: memref<?xi32>, %qb: memref<?x256xbf16>, %kb: memref<?x64xbf16>) {
  // CHECK: gcu.rotary_embedding ins([[P]] : memref<?xi64>) inouts([[Q]], [[K]] : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.000000e+04 : f64}
  gcu.rotary_embedding ins(%pos : memref<?xi64>)
      inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox
      {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  // CHECK: gcu.rotary_embedding ins([[P32]] : memref<?xi32>) inouts([[QB]], [[KB]] : memref<?x256xbf16>, memref<?x64xbf16>) gptj {head_dim = 64 : i64, rotary_dim = 16 : i64, theta = 1.000000e+06 : f64}
  gcu.rotary_embedding ins(%pos32 : memref<?xi32>)
      inouts(%qb, %kb : memref<?x256xbf16>, memref<?x64xbf16>) gptj
      {head_dim = 64 : i64, rotary_dim = 16 : i64, theta = 1.0e+06 : f64}
  // CHECK: gcu.reshape_and_cache ins([[K]], [[V]], [[S]] : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>) inouts([[KC]], [[VC]] : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
  return
}

// CHECK-LABEL: func.func @attention
// CHECK-SAME: ([[Q:%[a-z0-9_]+]]: memref<?x64xf32>, [[K:%[a-z0-9_]+]]: memref<?x32xf32>, [[V:%[a-z0-9_]+]]: memref<?x32xf32>, [[P:%[a-z0-9_]+]]: memref<?xi64>, [[S:%[a-z0-9_]+]]: memref<?xi64>, [[QSL:%[a-z0-9_]+]]: memref<?xi64>, [[LENS:%[a-z0-9_]+]]: memref<?xi64>, [[BT:%[a-z0-9_]+]]: memref<?x?xi64>, [[KC:%[a-z0-9_]+]]: memref<?x64x2x16xf32>, [[VC:%[a-z0-9_]+]]: memref<?x64x2x16xf32>, [[O:%[a-z0-9_]+]]: memref<?x64xf32>, [[NW:%[a-z0-9_]+]]: memref<16xf32>)
func.func @attention(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>,
                     %pos: memref<?xi64>, %slots: memref<?xi64>, %qsl: memref<?xi64>,
                     %lens: memref<?xi64>, %blocks: memref<?x?xi64>,
                     %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>,
                     %o: memref<?x64xf32>, %qk_norm: memref<16xf32>) {
  // CHECK: gcu.paged_attention ins([[Q]], [[KC]], [[VC]], [[P]], [[QSL]], [[LENS]], [[BT]] : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs([[O]] : memref<?x64xf32>)
  // CHECK-SAME: {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %blocks : memref<?x64xf32>,
      memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?x?xi64>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  // CHECK: gcu.paged_attention ins([[Q]], [[KC]], [[VC]], [[P]], [[QSL]], [[LENS]], [[BT]] : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs([[O]] : memref<?x64xf32>)
  // CHECK-SAME: {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64, sliding_window = 4096 : i64}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %blocks : memref<?x64xf32>,
      memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?x?xi64>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64,
       sliding_window = 4096 : i64}
  // Prefill with rotary, no q/k norm.
  // CHECK: gcu.fused_rope_cache_attention ins([[Q]], [[K]], [[V]], [[P]], [[S]], [[QSL]], [[LENS]], [[BT]] : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
  // CHECK-SAME: inouts([[KC]], [[VC]] : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs([[O]] : memref<?x64xf32>) prefill rotary neox
  // CHECK-SAME: {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 16 : i64, scale = 2.500000e-01 : f64, theta = 1.000000e+04 : f64}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %slots, %qsl, %lens, %blocks
      : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
      inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
      outs(%o : memref<?x64xf32>) prefill rotary neox
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64,
       rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  // Decode with q/k norm (Qwen3), GPT-J rotary and a sliding window.
  // CHECK: gcu.fused_rope_cache_attention ins([[Q]], [[K]], [[V]], [[P]], [[S]], [[QSL]], [[LENS]], [[BT]] : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
  // CHECK-SAME: qk_norm([[NW]], [[NW]] : memref<16xf32>, memref<16xf32>)
  // CHECK-SAME: inouts([[KC]], [[VC]] : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs([[O]] : memref<?x64xf32>) decode rotary gptj
  // CHECK-SAME: {head_dim = 16 : i64, norm_epsilon = 9.9999999999999995E-7 : f64, num_heads = 4 : i64, num_kv_heads = 2 : i64, rotary_dim = 8 : i64, scale = 2.500000e-01 : f64, sliding_window = 128 : i64, theta = 1.000000e+06 : f64}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %slots, %qsl, %lens, %blocks
      : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
      qk_norm(%qk_norm, %qk_norm : memref<16xf32>, memref<16xf32>)
      inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
      outs(%o : memref<?x64xf32>) decode rotary gptj
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64,
       rotary_dim = 8 : i64, theta = 1.0e+06 : f64, norm_epsilon = 1.0e-06 : f64,
       sliding_window = 128 : i64}
  // Decode without rotary (positions already rotated, e.g. ALiBi-free OPT-style).
  // CHECK: gcu.fused_rope_cache_attention ins([[Q]], [[K]], [[V]], [[P]], [[S]], [[QSL]], [[LENS]], [[BT]] : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
  // CHECK-SAME: inouts([[KC]], [[VC]] : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs([[O]] : memref<?x64xf32>) decode {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %slots, %qsl, %lens, %blocks
      : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
      inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
      outs(%o : memref<?x64xf32>) decode
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// Caches whose kv_heads or head_dim are dynamic, and static token counts.
// CHECK-LABEL: func.func @dynamic_heads
// CHECK-SAME: ([[K:%[a-z0-9_]+]]: memref<?x32xf32>, [[V:%[a-z0-9_]+]]: memref<?x32xf32>, [[S:%[a-z0-9_]+]]: memref<?xi64>, [[KCD:%[a-z0-9_]+]]: memref<?x64x?x?xf32>, [[KCH:%[a-z0-9_]+]]: memref<?x64x2x?xf32>, [[Q:%[a-z0-9_]+]]: memref<?x64xf32>, [[BT:%[a-z0-9_]+]]: memref<?x?xi64>, [[O:%[a-z0-9_]+]]: memref<?x64xf32>, [[P4:%[a-z0-9_]+]]: memref<4xi64>, [[Q4:%[a-z0-9_]+]]: memref<4x64xf32>, [[K4:%[a-z0-9_]+]]: memref<?x32xf32>)
func.func @dynamic_heads(%k: memref<?x32xf32>, %v: memref<?x32xf32>, %slots: memref<?xi64>,
                         %kcd: memref<?x64x?x?xf32>, %kch: memref<?x64x2x?xf32>,
                         %q: memref<?x64xf32>, %blocks: memref<?x?xi64>, %o: memref<?x64xf32>,
                         %pos4: memref<4xi64>, %q4: memref<4x64xf32>, %k4: memref<?x32xf32>) {
  // CHECK: gcu.reshape_and_cache ins([[K]], [[V]], [[S]] : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>) inouts([[KCD]], [[KCD]] : memref<?x64x?x?xf32>, memref<?x64x?x?xf32>)
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kcd, %kcd : memref<?x64x?x?xf32>, memref<?x64x?x?xf32>)
  // CHECK: gcu.reshape_and_cache ins([[K]], [[V]], [[S]] : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>) inouts([[KCH]], [[KCH]] : memref<?x64x2x?xf32>, memref<?x64x2x?xf32>)
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kch, %kch : memref<?x64x2x?xf32>, memref<?x64x2x?xf32>)
  // CHECK: gcu.paged_attention ins([[Q]], [[KCD]], [[KCD]], [[S]], [[S]], [[S]], [[BT]] : memref<?x64xf32>, memref<?x64x?x?xf32>, memref<?x64x?x?xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs([[O]] : memref<?x64xf32>)
  // CHECK-SAME: {head_dim = 16 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, scale = 2.500000e-01 : f64}
  gcu.paged_attention ins(%q, %kcd, %kcd, %slots, %slots, %slots, %blocks : memref<?x64xf32>,
      memref<?x64x?x?xf32>, memref<?x64x?x?xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>,
      memref<?x?xi64>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  // CHECK: gcu.rotary_embedding ins([[P4]] : memref<4xi64>) inouts([[Q4]], [[K4]] : memref<4x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 8 : i64, theta = 1.000000e+04 : f64}
  gcu.rotary_embedding ins(%pos4 : memref<4xi64>)
      inouts(%q4, %k4 : memref<4x64xf32>, memref<?x32xf32>) neox
      {head_dim = 16 : i64, rotary_dim = 8 : i64, theta = 1.0e+04 : f64}
  return
}

// CHECK-LABEL: func.func @gated_and_collectives
// CHECK-SAME: ([[GU:%[a-z0-9_]+]]: memref<?x256xf32>, [[Y:%[a-z0-9_]+]]: memref<?x128xf32>, [[GB:%[a-z0-9_]+]]: memref<?x512xbf16>, [[YB:%[a-z0-9_]+]]: memref<?x256xbf16>, [[X:%[a-z0-9_]+]]: memref<?x64xf32>, [[G:%[a-z0-9_]+]]: memref<?x256xf32>)
func.func @gated_and_collectives(%gu: memref<?x256xf32>, %y: memref<?x128xf32>,
                                 %gb: memref<?x512xbf16>, %yb: memref<?x256xbf16>,
                                 %x: memref<?x64xf32>, %g: memref<?x256xf32>) {
  // CHECK: gcu.silu_and_mul ins([[GU]] : memref<?x256xf32>) outs([[Y]] : memref<?x128xf32>)
  gcu.silu_and_mul ins(%gu : memref<?x256xf32>) outs(%y : memref<?x128xf32>)
  // CHECK: gcu.gelu_and_mul ins([[GB]] : memref<?x512xbf16>) outs([[YB]] : memref<?x256xbf16>)
  gcu.gelu_and_mul ins(%gb : memref<?x512xbf16>) outs(%yb : memref<?x256xbf16>)
  // CHECK: gcu.gelu_tanh_and_mul ins([[GU]] : memref<?x256xf32>) outs([[Y]] : memref<?x128xf32>)
  gcu.gelu_tanh_and_mul ins(%gu : memref<?x256xf32>) outs(%y : memref<?x128xf32>)
  // CHECK: gcu.all_reduce inouts([[X]] : memref<?x64xf32>)
  gcu.all_reduce inouts(%x : memref<?x64xf32>)
  // CHECK: gcu.all_reduce inouts([[X]] : memref<?x64xf32>) group expert
  gcu.all_reduce inouts(%x : memref<?x64xf32>) group expert
  // CHECK: gcu.all_gather ins([[Y]] : memref<?x128xf32>) outs([[G]] : memref<?x256xf32>) {dim = 1 : i64}
  gcu.all_gather ins(%y : memref<?x128xf32>) outs(%g : memref<?x256xf32>) {dim = 1 : i64}
  // CHECK: gcu.all_gather ins([[Y]] : memref<?x128xf32>) outs([[G]] : memref<?x256xf32>) {dim = -1 : i64}
  gcu.all_gather ins(%y : memref<?x128xf32>) outs(%g : memref<?x256xf32>) {dim = -1 : i64}
  return
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME: ([[A:%[a-z0-9_]+]]: memref<?x64xf32>, [[B:%[a-z0-9_]+]]: memref<64xf32>, [[C:%[a-z0-9_]+]]: memref<?x64xf32>, [[KP:%[a-z0-9_]+]]: memref<1x?xi64>, [[QP:%[a-z0-9_]+]]: memref<?x1xi64>, [[M:%[a-z0-9_]+]]: memref<?x?xi1>, [[I:%[a-z0-9_]+]]: memref<?x?xi64>, [[MC:%[a-z0-9_]+]]: memref<?x64xi1>)
func.func @binary(%a: memref<?x64xf32>, %b: memref<64xf32>, %c: memref<?x64xf32>,
                  %kpos: memref<1x?xi64>, %qpos: memref<?x1xi64>, %m: memref<?x?xi1>,
                  %i: memref<?x?xi64>, %mc: memref<?x64xi1>) {
  // CHECK: gcu.binary add ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[C]] : memref<?x64xf32>)
  gcu.binary add ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xf32>)
  // CHECK: gcu.binary sub ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[C]] : memref<?x64xf32>)
  gcu.binary sub ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xf32>)
  // CHECK: gcu.binary mul ins([[A]], [[A]] : memref<?x64xf32>, memref<?x64xf32>) outs([[C]] : memref<?x64xf32>)
  gcu.binary mul ins(%a, %a : memref<?x64xf32>, memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  // CHECK: gcu.binary div ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[C]] : memref<?x64xf32>)
  gcu.binary div ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xf32>)
  // CHECK: gcu.binary pow ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[C]] : memref<?x64xf32>)
  gcu.binary pow ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xf32>)
  // CHECK: gcu.binary maximum ins([[KP]], [[QP]] : memref<1x?xi64>, memref<?x1xi64>) outs([[I]] : memref<?x?xi64>)
  gcu.binary maximum ins(%kpos, %qpos : memref<1x?xi64>, memref<?x1xi64>) outs(%i : memref<?x?xi64>)
  // CHECK: gcu.binary eq ins([[KP]], [[QP]] : memref<1x?xi64>, memref<?x1xi64>) outs([[M]] : memref<?x?xi1>)
  gcu.binary eq ins(%kpos, %qpos : memref<1x?xi64>, memref<?x1xi64>) outs(%m : memref<?x?xi1>)
  // CHECK: gcu.binary ne ins([[KP]], [[QP]] : memref<1x?xi64>, memref<?x1xi64>) outs([[M]] : memref<?x?xi1>)
  gcu.binary ne ins(%kpos, %qpos : memref<1x?xi64>, memref<?x1xi64>) outs(%m : memref<?x?xi1>)
  // CHECK: gcu.binary lt ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[MC]] : memref<?x64xi1>)
  gcu.binary lt ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%mc : memref<?x64xi1>)
  // CHECK: gcu.binary le ins([[A]], [[B]] : memref<?x64xf32>, memref<64xf32>) outs([[MC]] : memref<?x64xi1>)
  gcu.binary le ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%mc : memref<?x64xi1>)
  // CHECK: gcu.binary gt ins([[KP]], [[QP]] : memref<1x?xi64>, memref<?x1xi64>) outs([[M]] : memref<?x?xi1>)
  gcu.binary gt ins(%kpos, %qpos : memref<1x?xi64>, memref<?x1xi64>) outs(%m : memref<?x?xi1>)
  // CHECK: gcu.binary ge ins([[KP]], [[QP]] : memref<1x?xi64>, memref<?x1xi64>) outs([[M]] : memref<?x?xi1>)
  gcu.binary ge ins(%kpos, %qpos : memref<1x?xi64>, memref<?x1xi64>) outs(%m : memref<?x?xi1>)
  // CHECK: gcu.binary logical_or ins([[M]], [[M]] : memref<?x?xi1>, memref<?x?xi1>) outs([[M]] : memref<?x?xi1>)
  gcu.binary logical_or ins(%m, %m : memref<?x?xi1>, memref<?x?xi1>) outs(%m : memref<?x?xi1>)
  return
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: ([[X:%[a-z0-9_]+]]: memref<?x64xf32>, [[Y:%[a-z0-9_]+]]: memref<?x64xf32>, [[XB:%[a-z0-9_]+]]: memref<?x64xbf16>, [[M:%[a-z0-9_]+]]: memref<?x?xi1>, [[MF:%[a-z0-9_]+]]: memref<?x?xf32>, [[I:%[a-z0-9_]+]]: memref<?xi64>, [[J:%[a-z0-9_]+]]: memref<?xi64>)
func.func @unary(%x: memref<?x64xf32>, %y: memref<?x64xf32>, %xb: memref<?x64xbf16>,
                 %m: memref<?x?xi1>, %mf: memref<?x?xf32>, %i: memref<?xi64>, %j: memref<?xi64>) {
  // CHECK: gcu.unary neg ins([[I]] : memref<?xi64>) outs([[J]] : memref<?xi64>)
  gcu.unary neg ins(%i : memref<?xi64>) outs(%j : memref<?xi64>)
  // CHECK: gcu.unary rsqrt ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary rsqrt ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary sqrt ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary sqrt ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary exp ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary exp ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary cos ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary cos ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary sin ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary sin ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary sigmoid ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary sigmoid ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary tanh ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary tanh ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary silu ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary silu ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary relu ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary relu ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary gelu ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary gelu ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary gelu_tanh ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary gelu_tanh ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary cast ins([[XB]] : memref<?x64xbf16>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary cast ins(%xb : memref<?x64xbf16>) outs(%y : memref<?x64xf32>)
  // CHECK: gcu.unary cast ins([[M]] : memref<?x?xi1>) outs([[MF]] : memref<?x?xf32>)
  gcu.unary cast ins(%m : memref<?x?xi1>) outs(%mf : memref<?x?xf32>)
  // CHECK: gcu.unary copy ins([[X]] : memref<?x64xf32>) outs([[Y]] : memref<?x64xf32>)
  gcu.unary copy ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>)
  return
}

// CHECK-LABEL: func.func @generic_kernels
// CHECK-SAME: ([[M:%[a-z0-9_]+]]: memref<?x?xi1>, [[NINF:%[a-z0-9_]+]]: memref<f32>, [[S:%[a-z0-9_]+]]: memref<4x?x?xf32>, [[P:%[a-z0-9_]+]]: memref<4x?x?xf32>, [[X:%[a-z0-9_]+]]: memref<?x64xf32>, [[MEAN:%[a-z0-9_]+]]: memref<?x1xf32>, [[SUM:%[a-z0-9_]+]]: memref<?xf32>, [[A:%[a-z0-9_]+]]: memref<?x8xbf16>, [[B:%[a-z0-9_]+]]: memref<?x8xbf16>, [[C:%[a-z0-9_]+]]: memref<?x16xbf16>, [[T:%[a-z0-9_]+]]: memref<128x16xf32>, [[I:%[a-z0-9_]+]]: memref<?xi64>, [[O:%[a-z0-9_]+]]: memref<?x16xf32>)
func.func @generic_kernels(%m: memref<?x?xi1>, %ninf: memref<f32>, %s: memref<4x?x?xf32>,
                           %p: memref<4x?x?xf32>, %x: memref<?x64xf32>, %mean: memref<?x1xf32>,
                           %sum: memref<?xf32>, %a: memref<?x8xbf16>, %b: memref<?x8xbf16>,
                           %c: memref<?x16xbf16>, %t: memref<128x16xf32>, %i: memref<?xi64>,
                           %o: memref<?x16xf32>) {
  // CHECK: gcu.where ins([[M]], [[NINF]], [[S]] : memref<?x?xi1>, memref<f32>, memref<4x?x?xf32>) outs([[P]] : memref<4x?x?xf32>)
  gcu.where ins(%m, %ninf, %s : memref<?x?xi1>, memref<f32>, memref<4x?x?xf32>)
            outs(%p : memref<4x?x?xf32>)
  // CHECK: gcu.reduce mean ins([[X]] : memref<?x64xf32>) outs([[MEAN]] : memref<?x1xf32>) {dims = array<i64: 1>, keepdim}
  gcu.reduce mean ins(%x : memref<?x64xf32>) outs(%mean : memref<?x1xf32>)
             {dims = array<i64: 1>, keepdim}
  // CHECK: gcu.reduce sum ins([[X]] : memref<?x64xf32>) outs([[SUM]] : memref<?xf32>) {dims = array<i64: -1>}
  gcu.reduce sum ins(%x : memref<?x64xf32>) outs(%sum : memref<?xf32>) {dims = array<i64: -1>}
  // CHECK: gcu.softmax ins([[S]] : memref<4x?x?xf32>) outs([[P]] : memref<4x?x?xf32>) {dim = 2 : i64}
  gcu.softmax ins(%s : memref<4x?x?xf32>) outs(%p : memref<4x?x?xf32>) {dim = 2 : i64}
  // CHECK: gcu.softmax ins([[X]] : memref<?x64xf32>) outs([[X]] : memref<?x64xf32>) {dim = -1 : i64}
  gcu.softmax ins(%x : memref<?x64xf32>) outs(%x : memref<?x64xf32>) {dim = -1 : i64}
  // CHECK: gcu.concat ins([[A]], [[B]] : memref<?x8xbf16>, memref<?x8xbf16>) outs([[C]] : memref<?x16xbf16>) {dim = 1 : i64}
  gcu.concat ins(%a, %b : memref<?x8xbf16>, memref<?x8xbf16>) outs(%c : memref<?x16xbf16>)
             {dim = 1 : i64}
  // CHECK: gcu.concat ins([[A]] : memref<?x8xbf16>) outs([[B]] : memref<?x8xbf16>) {dim = -1 : i64}
  gcu.concat ins(%a : memref<?x8xbf16>) outs(%b : memref<?x8xbf16>) {dim = -1 : i64}
  // Along a dynamic dimension the inputs' total is dynamic too.
  // CHECK: gcu.concat ins([[A]], [[B]] : memref<?x8xbf16>, memref<?x8xbf16>) outs([[B]] : memref<?x8xbf16>) {dim = 0 : i64}
  gcu.concat ins(%a, %b : memref<?x8xbf16>, memref<?x8xbf16>) outs(%b : memref<?x8xbf16>) {dim = 0 : i64}
  // CHECK: gcu.gather ins([[T]], [[I]] : memref<128x16xf32>, memref<?xi64>) outs([[O]] : memref<?x16xf32>) {dim = 0 : i64}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi64>) outs(%o : memref<?x16xf32>)
             {dim = 0 : i64}
  return
}

// Gemma 2's kernels.
// CHECK-LABEL: func.func @gemma2_kernels
func.func @gemma2_kernels(%x: memref<?x64xbf16>, %r: memref<?x64xbf16>, %w1: memref<64xf32>, %w2: memref<64xf32>, %y: memref<?x64xbf16>) {
  // CHECK: gcu.fused_norm_add_norm ins(%{{.*}}, %{{.*}} : memref<64xf32>, memref<64xf32>) inouts(%{{.*}}, %{{.*}} : memref<?x64xbf16>, memref<?x64xbf16>) {epsilon = 9.9999999999999995E-7 : f64, post_epsilon = 9.9999999999999995E-7 : f64}
  gcu.fused_norm_add_norm ins(%w1, %w2 : memref<64xf32>, memref<64xf32>) inouts(%x, %r : memref<?x64xbf16>, memref<?x64xbf16>) {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
  // CHECK: gcu.all_reduce_fused_norm_add_norm
  gcu.all_reduce_fused_norm_add_norm ins(%w1, %w2 : memref<64xf32>, memref<64xf32>) inouts(%x, %r : memref<?x64xbf16>, memref<?x64xbf16>) {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
  // CHECK: gcu.soft_cap ins(%{{.*}} : memref<?x64xbf16>) outs(%{{.*}} : memref<?x64xbf16>) {cap = 3.000000e+01 : f64}
  gcu.soft_cap ins(%x : memref<?x64xbf16>) outs(%y : memref<?x64xbf16>) {cap = 30.0 : f64}
  return
}

// Mixture-of-experts kernels.
// CHECK-LABEL: func.func @moe_kernels
func.func @moe_kernels(%wf: memref<?x2xf32>, %bias: memref<8xf32>, %p: memref<?x8xf32>, %x: memref<?x64xf32>, %gate: memref<8x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>, %gate_up: memref<256x64xf32>, %down: memref<512x16xf32>, %y: memref<?x64xf32>, %sgu: memref<64x64xf32>, %sd: memref<64x32xf32>, %sg: memref<1x64xf32>) {
  // CHECK: gcu.moe_router ins(%{{.*}}, %{{.*}} : memref<?x64xf32>, memref<8x64xf32>) outs(%{{.*}}, %{{.*}} : memref<?x2xf32>, memref<?x2xi64>) {renormalize, top_k = 2 : i64}
  gcu.moe_router ins(%x, %gate : memref<?x64xf32>, memref<8x64xf32>) outs(%w, %ids : memref<?x2xf32>, memref<?x2xi64>) {top_k = 2 : i64, renormalize}
  // CHECK: gcu.fused_moe ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) outs(%{{.*}} : memref<?x64xf32>) {num_experts = 8 : i64}
  gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
  // CHECK: gcu.fused_moe {{.*}} shared(%{{.*}}, %{{.*}} : memref<64x64xf32>, memref<64x32xf32>) shared_gate(%{{.*}} : memref<1x64xf32>) outs
  gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) shared(%sgu, %sd : memref<64x64xf32>, memref<64x32xf32>) shared_gate(%sg : memref<1x64xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
  // DeepSeekMoE: shared experts without a gate, f32 routing weights.
  // CHECK: gcu.fused_moe {{.*}} shared(%{{.*}}, %{{.*}} : memref<64x64xf32>, memref<64x32xf32>) outs
  gcu.fused_moe ins(%x, %wf, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) shared(%sgu, %sd : memref<64x64xf32>, memref<64x32xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
  // CHECK: gcu.moe_router ins({{.*}}) bias(%{{.*}} : memref<8xf32>) outs({{.*}}) scoring sigmoid group_score top2_sum {num_groups = 4 : i64, renormalize, route_in_f32, scaling_factor = 2.500000e+00 : f64, top_k = 2 : i64, topk_groups = 2 : i64}
  gcu.moe_router ins(%x, %gate : memref<?x64xf32>, memref<8x64xf32>) bias(%bias : memref<8xf32>) outs(%wf, %ids : memref<?x2xf32>, memref<?x2xi64>) scoring sigmoid group_score top2_sum {top_k = 2 : i64, renormalize, num_groups = 4 : i64, topk_groups = 2 : i64, scaling_factor = 2.5 : f64, route_in_f32}
  // CHECK: gcu.topk ins(%{{.*}} : memref<?x8xf32>) outs(%{{.*}}, %{{.*}} : memref<?x2xf32>, memref<?x2xi64>) {k = 2 : i64}
  gcu.topk ins(%p : memref<?x8xf32>) outs(%w, %ids : memref<?x2xf32>, memref<?x2xi64>) {k = 2 : i64}
  // CHECK: gcu.scatter ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<?x8xf32>, memref<?x2xi64>, memref<?x2xf32>) outs(%{{.*}} : memref<?x8xf32>) {dim = 1 : i64}
  gcu.scatter ins(%p, %ids, %w : memref<?x8xf32>, memref<?x2xi64>, memref<?x2xf32>) outs(%p : memref<?x8xf32>) {dim = 1 : i64}
  // Half of 16 experts on this rank: the same stacked sizes as 8 whole experts.
  // CHECK: gcu.fused_moe {{.*}} {expert_parallel = 2 : i64, num_experts = 16 : i64}
  gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) outs(%y : memref<?x64xf32>) {num_experts = 16 : i64, expert_parallel = 2 : i64}
  return
}

// Multi-head latent attention: the latent cache and the rotary-key cache differ in width.
// CHECK-LABEL: func.func @mla
func.func @mla(%q: memref<?x96xf32>, %c: memref<?x32xf32>, %kpe: memref<?x8xf32>, %kvb: memref<128x32xf32>, %pos: memref<?xi64>, %slots: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %blocks: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // CHECK: gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>
  %lc, %rc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>
  // CHECK: gcu.mla_attention ins({{.*}}) inouts({{.*}} : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>) outs({{.*}}) decode {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, scale = 2.000000e-01 : f64, theta = 1.000000e+04 : f64, v_head_dim = 16 : i64}
  gcu.mla_attention ins(%q, %c, %kpe, %kvb, %pos, %slots, %qsl, %lens, %blocks : memref<?x96xf32>, memref<?x32xf32>, memref<?x8xf32>, memref<128x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%lc, %rc : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64}
  return
}

// CHECK-LABEL: func.func @quantized_kv_cache
func.func @quantized_kv_cache(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %slots: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %blocks: memref<?x?xi64>, %o: memref<?x64xf32>, %mq: memref<?x96xf32>, %c: memref<?x32xf32>, %kpe: memref<?x8xf32>, %kvb: memref<128x32xf32>) {
  // CHECK: gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xi8>
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xi8>
  // CHECK: gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x2xf32>
  %ks, %vs = gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x2xf32>
  // CHECK: gcu.reshape_and_cache ins({{.*}}) inouts({{.*}} : memref<?x64x2x16xi8>, memref<?x64x2x16xi8>) scales({{.*}} : memref<?x64x2xf32>, memref<?x64x2xf32>)
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kc, %vc : memref<?x64x2x16xi8>, memref<?x64x2x16xi8>)
      scales(%ks, %vs : memref<?x64x2xf32>, memref<?x64x2xf32>)
  // CHECK: gcu.paged_attention ins({{.*}}) scales({{.*}} : memref<?x64x2xf32>, memref<?x64x2xf32>) outs({{.*}} : memref<?x64xf32>)
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %blocks : memref<?x64xf32>,
      memref<?x64x2x16xi8>, memref<?x64x2x16xi8>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?x?xi64>) scales(%ks, %vs : memref<?x64x2xf32>, memref<?x64x2xf32>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  // CHECK: gcu.kv_cache {layer = 1 : i64} : memref<?x64x2x16xf8E4M3FN>
  %fk, %fv = gcu.kv_cache {layer = 1 : i64} : memref<?x64x2x16xf8E4M3FN>
  %fks, %fvs = gcu.kv_cache_scales {layer = 1 : i64} : memref<?x64x2xf32>
  // CHECK: gcu.fused_rope_cache_attention ins({{.*}}) inouts({{.*}} : memref<?x64x2x16xf8E4M3FN>, memref<?x64x2x16xf8E4M3FN>) scales({{.*}}) outs({{.*}}) decode rotary neox
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %slots, %qsl, %lens, %blocks
      : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
      inouts(%fk, %fv : memref<?x64x2x16xf8E4M3FN>, memref<?x64x2x16xf8E4M3FN>)
      scales(%fks, %fvs : memref<?x64x2xf32>, memref<?x64x2xf32>)
      outs(%o : memref<?x64xf32>) decode rotary neox
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64,
       rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  %lc, %rc = gcu.kv_cache {layer = 2 : i64} : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>
  %ls, %rs = gcu.kv_cache_scales {layer = 2 : i64} : memref<?x64x1xf32>
  // CHECK: gcu.mla_attention ins({{.*}}) inouts({{.*}} : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>) scales({{.*}} : memref<?x64x1xf32>, memref<?x64x1xf32>) outs({{.*}}) decode
  gcu.mla_attention ins(%mq, %c, %kpe, %kvb, %pos, %slots, %qsl, %lens, %blocks : memref<?x96xf32>, memref<?x32xf32>, memref<?x8xf32>, memref<128x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%lc, %rc : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>) scales(%ls, %rs : memref<?x64x1xf32>, memref<?x64x1xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64}
  return
}
