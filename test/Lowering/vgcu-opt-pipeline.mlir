// vgcu-opt --vgcu-pipeline="tp=2" on the tiny Llama's graph (from vgcu-compile --emit=graph) produces exactly the kernels of vgcu-compile --emit=kernels --tp 2, locations included; likewise at tp = 1 (the default) and tp = 4.
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=graph --mlir-print-debuginfo > %t.graph.mlir
// RUN: vgcu-opt %t.graph.mlir --vgcu-pipeline="tp=2" --mlir-print-debuginfo > %t.opt.tp2.mlir
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=kernels --tp 2 --mlir-print-debuginfo > %t.compile.tp2.mlir
// RUN: diff %t.opt.tp2.mlir %t.compile.tp2.mlir
// RUN: FileCheck %s --input-file=%t.opt.tp2.mlir
//
// Without debug info in the file the kernels are the same too.
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=graph > %t.plain.mlir
// RUN: vgcu-opt %t.plain.mlir --vgcu-pipeline="tp=2" > %t.opt.plain.mlir
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=kernels --tp 2 > %t.compile.plain.mlir
// RUN: diff %t.opt.plain.mlir %t.compile.plain.mlir
//
// RUN: vgcu-opt %t.graph.mlir --vgcu-pipeline --mlir-print-debuginfo > %t.opt.tp1.mlir
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=kernels --mlir-print-debuginfo > %t.compile.tp1.mlir
// RUN: diff %t.opt.tp1.mlir %t.compile.tp1.mlir
// RUN: vgcu-opt %t.graph.mlir --vgcu-pipeline="tp=4" --mlir-print-debuginfo > %t.opt.tp4.mlir
// RUN: vgcu-compile %S/../Models/Inputs/tiny-llama --emit=kernels --tp 4 --mlir-print-debuginfo > %t.compile.tp4.mlir
// RUN: diff %t.opt.tp4.mlir %t.compile.tp4.mlir

// CHECK: module attributes {vgcu.architecture = "LlamaForCausalLM", vgcu.dtype = "F32", vgcu.kv_block_size = 64 : i64, vgcu.kv_layers = 2 : i64, vgcu.tp = 2 : i64}
// CHECK-LABEL: func.func @prefill(
// CHECK-SAME: {vgcu.name = "input_ids"}
// CHECK-SAME: {vgcu.name = "query_start_loc"}
// CHECK-SAME: {vgcu.name = "seq_lens"}
// CHECK-SAME: memref<?x?xi64> {vgcu.name = "block_tables"}
// CHECK-SAME: -> memref<?x250xf32>
// CHECK: gcu.embedding {{.*}} {vocab_parallel}
// CHECK-NEXT: gcu.all_reduce inouts(
// CHECK: gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x16xf32>
// CHECK: gcu.fused_rope_cache_attention {{.*}} prefill rotary neox {head_dim = 16 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64,
// CHECK: gcu.all_reduce_fused_add_rms_norm
// CHECK: gcu.gemm {{.*}} epilogue silu_and_mul
// CHECK: gcu.all_gather
// CHECK-LABEL: func.func @decode(
// CHECK: gcu.fused_rope_cache_attention {{.*}} decode rotary neox
// CHECK: gcu.all_gather
