// Every verifier diagnostic of the gcu dialect, one case per split.
// RUN: vgcu-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Buffers (no launch)
//===----------------------------------------------------------------------===//

func.func @weight_empty_name() {
  // expected-error @+1 {{'gcu.weight' op name must not be empty}}
  %0 = gcu.weight "" : memref<64xf32>
  return
}

// -----

func.func @weight_dynamic_shape() {
  // expected-error @+1 {{'gcu.weight' op weight shape must be static}}
  %0 = gcu.weight "model.embed_tokens.weight" : memref<?x64xf32>
  return
}

// -----

func.func @weight_integer_type() {
  // expected-error @+1 {{'gcu.weight' op result #0 must be memref of 32-bit float or 16-bit float or bfloat16 type or 8-bit signless integer or 32-bit signless integer values, but got 'memref<64xi64>'}}
  %0 = gcu.weight "w" : memref<64xi64>
  return
}

// -----

func.func @constant_shape_mismatch() {
  // expected-error @+1 {{'gcu.constant' op value type 'tensor<2xf32>' does not match the buffer type 'memref<3xf32>'}}
  %0 = gcu.constant dense<1.0> : tensor<2xf32> -> memref<3xf32>
  return
}

// -----

func.func @constant_element_type_mismatch() {
  // expected-error @+1 {{'gcu.constant' op value type 'tensor<i64>' does not match the buffer type 'memref<i32>'}}
  %0 = gcu.constant dense<2> : tensor<i64> -> memref<i32>
  return
}

// -----

func.func @dim_out_of_range(%ids: memref<?xi64>) {
  // expected-error @+1 {{'gcu.dim' op dimension 1 is out of range for rank 1}}
  %0 = gcu.dim %ids, 1 : memref<?xi64>
  return
}

// -----

func.func @dim_negative(%ids: memref<?xi64>) {
  // expected-error @+1 {{'gcu.dim' op dimension -1 is out of range for rank 1}}
  %0 = gcu.dim %ids, -1 : memref<?xi64>
  return
}

// -----

func.func @alloc_missing_sizes() {
  // expected-error @+1 {{'gcu.alloc' op needs 1 dynamic sizes, got 0}}
  %0 = gcu.alloc() : memref<?x64xf32>
  return
}

// -----

func.func @alloc_extra_sizes(%n: index) {
  // expected-error @+1 {{'gcu.alloc' op needs 0 dynamic sizes, got 1}}
  %0 = gcu.alloc(%n) : memref<4x64xf32>
  return
}

// -----

func.func @alloc_negative_slot(%n: index) {
  // expected-error @+1 {{'gcu.alloc' op slot must be non-negative}}
  %0 = gcu.alloc(%n) {slot = -1 : i64} : memref<?x64xf32>
  return
}

// -----

func.func @kv_cache_negative_layer() {
  // expected-error @+1 {{'gcu.kv_cache' op layer must be non-negative}}
  %kc, %vc = gcu.kv_cache {layer = -1 : i64} : memref<?x64x2x16xf32>
  return
}

// -----

func.func @kv_cache_rank() {
  // expected-error @+1 {{'gcu.kv_cache' op caches must be [blocks, block_size, kv_heads, head_dim] with static block_size, kv_heads and head_dim}}
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x32xf32>
  return
}

// -----

func.func @kv_cache_dynamic_block_size() {
  // expected-error @+1 {{'gcu.kv_cache' op caches must be [blocks, block_size, kv_heads, head_dim] with static block_size, kv_heads and head_dim}}
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x?x2x16xf32>
  return
}

// -----

func.func @kv_cache_dynamic_head_dim() {
  // expected-error @+1 {{'gcu.kv_cache' op caches must be [blocks, block_size, kv_heads, head_dim] with static block_size, kv_heads and head_dim}}
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x?xf32>
  return
}

// -----

// Key and value caches may differ in head_dim only (multi-head latent attention).
func.func @kv_cache_type_mismatch() {
  // expected-error @+1 {{'gcu.kv_cache' op key and value caches must differ in head_dim at most}}
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>, memref<?x64x2x16xbf16>
  return
}

// -----

func.func @kv_cache_heads_mismatch() {
  // expected-error @+1 {{'gcu.kv_cache' op key and value caches must differ in head_dim at most}}
  %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x1x32xf32>, memref<?x64x2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

func.func @slice_view_dim(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op dim 2 is out of range for rank 2}}
  %0 = gcu.slice_view %x {dim = 2 : i64, start = 0 : i64, end = 64 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  return
}

// -----

func.func @slice_view_negative_dim(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op dim -3 is out of range for rank 2}}
  %0 = gcu.slice_view %x {dim = -3 : i64, start = 0 : i64, end = 64 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  return
}

// -----

func.func @slice_view_step(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op range [0, 64) with step 0 is invalid}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64, step = 0 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  return
}

// -----

func.func @slice_view_negative_step(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op range [0, 64) with step -1 is invalid}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64, step = -1 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  return
}

// -----

func.func @slice_view_negative_start(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op range [-2, 64) with step 1 is invalid}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = -2 : i64, end = 64 : i64} : memref<?x128xf32> -> memref<?x66xf32>
  return
}

// -----

func.func @slice_view_empty(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op range [64, 32) with step 1 is invalid}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 64 : i64, end = 32 : i64} : memref<?x128xf32> -> memref<?x32xf32>
  return
}

// -----

func.func @slice_view_end(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op range end 200 exceeds dimension size 128}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 72 : i64, end = 200 : i64} : memref<?x128xf32> -> memref<?x128xf32>
  return
}

// -----

func.func @slice_view_result_shape(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op result shape [?, 64] does not match the expected [?, 32]}}
  %0 = gcu.slice_view %x {dim = -1 : i64, start = 0 : i64, end = 64 : i64, step = 2 : i64} : memref<?x128xf32> -> memref<?x64xf32>
  return
}

// -----

func.func @slice_view_element_type(%x: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.slice_view' op a view keeps its source's element type}}
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : memref<?x128xf32> -> memref<?x64xbf16>
  return
}

// -----

func.func @last_token_view_scalar(%x: memref<f32>, %qsl: memref<?xi64>) {
  // expected-error @+1 {{'gcu.last_token_view' op source must have a token dimension}}
  %0 = gcu.last_token_view %x, %qsl : memref<f32>, memref<?xi64> -> memref<f32>
  return
}

// -----

// Three query start offsets delimit two sequences, so two rows.
func.func @last_token_view_result_shape(%x: memref<?x64xf32>, %qsl: memref<3xi64>) {
  // expected-error @+1 {{'gcu.last_token_view' op result shape [1, 64] does not match the expected [2, 64]}}
  %0 = gcu.last_token_view %x, %qsl : memref<?x64xf32>, memref<3xi64> -> memref<1x64xf32>
  return
}

// -----

func.func @last_token_view_query_start_loc_rank(%x: memref<?x64xf32>, %qsl: memref<?x2xi64>) {
  // expected-error @+1 {{'gcu.last_token_view' op query_start_loc must be one-dimensional}}
  %0 = gcu.last_token_view %x, %qsl : memref<?x64xf32>, memref<?x2xi64> -> memref<?x64xf32>
  return
}

// -----

func.func @last_token_view_element_type(%x: memref<?x64xf32>, %qsl: memref<?xi64>) {
  // expected-error @+1 {{'gcu.last_token_view' op a view keeps its source's element type}}
  %0 = gcu.last_token_view %x, %qsl : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf16>
  return
}

// -----

func.func @reshape_view_static_count(%x: memref<4x64xf32>) {
  // expected-error @+1 {{'gcu.reshape_view' op input has 256 elements but the result has 512}}
  %0 = gcu.reshape_view %x : memref<4x64xf32> -> memref<8x64xf32>
  return
}

// -----

func.func @reshape_view_dynamic_to_static(%x: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.reshape_view' op a dynamic shape cannot be reshaped to a static one or back}}
  %0 = gcu.reshape_view %x : memref<?x64xf32> -> memref<4x16xf32>
  return
}

// -----

func.func @reshape_view_incompatible_counts(%x: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.reshape_view' op static element counts 64 and 40 are not compatible}}
  %0 = gcu.reshape_view %x : memref<?x64xf32> -> memref<?x5x8xf32>
  return
}

// -----

func.func @reshape_view_element_type(%x: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.reshape_view' op a view keeps its source's element type}}
  %0 = gcu.reshape_view %x : memref<?x64xf32> -> memref<?x4x16xi32>
  return
}

// -----

func.func @transpose_view_size(%x: memref<?x4x16xf32>) {
  // expected-error @+1 {{'gcu.transpose_view' op permutation has 2 entries for rank 3}}
  %0 = gcu.transpose_view %x {permutation = array<i64: 1, 0>} : memref<?x4x16xf32> -> memref<4x?x16xf32>
  return
}

// -----

func.func @transpose_view_not_permutation(%x: memref<?x4x16xf32>) {
  // expected-error @+1 {{'gcu.transpose_view' op permutation is not a permutation of [0, 3)}}
  %0 = gcu.transpose_view %x {permutation = array<i64: 0, 2, 2>} : memref<?x4x16xf32> -> memref<?x16x16xf32>
  return
}

// -----

func.func @transpose_view_result_shape(%x: memref<?x4x16xf32>) {
  // expected-error @+1 {{'gcu.transpose_view' op result shape [16, ?, 4] does not match the expected [4, ?, 16]}}
  %0 = gcu.transpose_view %x {permutation = array<i64: 1, 0, 2>} : memref<?x4x16xf32> -> memref<16x?x4xf32>
  return
}

// -----

func.func @transpose_view_element_type(%x: memref<?x?xi1>) {
  // expected-error @+1 {{'gcu.transpose_view' op a view keeps its source's element type}}
  %0 = gcu.transpose_view %x {permutation = array<i64: 1, 0>} : memref<?x?xi1> -> memref<?x?xf32>
  return
}

// -----

func.func @broadcast_view_rank(%x: memref<2x1x?x16xf32>) {
  // expected-error @+1 {{'gcu.broadcast_view' op result rank must be at least the input rank}}
  %0 = gcu.broadcast_view %x : memref<2x1x?x16xf32> -> memref<4x?x16xf32>
  return
}

// -----

func.func @broadcast_view_dim(%x: memref<2x1x?x16xf32>) {
  // expected-error @+1 {{'gcu.broadcast_view' op input dimension 3 of size 16 cannot broadcast to 32}}
  %0 = gcu.broadcast_view %x : memref<2x1x?x16xf32> -> memref<2x4x?x32xf32>
  return
}

// -----

func.func @broadcast_view_element_type(%x: memref<2x1x?x16xbf16>) {
  // expected-error @+1 {{'gcu.broadcast_view' op a view keeps its source's element type}}
  %0 = gcu.broadcast_view %x : memref<2x1x?x16xbf16> -> memref<2x4x?x16xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// gcu.embedding, gcu.gemm, gcu.batch_matmul
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%ids: memref<?xi64>, %t: memref<256xf32>, %h: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.embedding' op table must be [vocab, hidden]}}
  gcu.embedding ins(%ids, %t : memref<?xi64>, memref<256xf32>) outs(%h : memref<?x64xf32>)
  return
}

// -----

func.func @embedding_output_shape(%ids: memref<?xi64>, %t: memref<256x64xf32>, %h: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.embedding' op output shape [?, 32] does not match the expected [?, 64]}}
  gcu.embedding ins(%ids, %t : memref<?xi64>, memref<256x64xf32>) outs(%h : memref<?x32xf32>)
  return
}

// -----

func.func @embedding_element_type(%ids: memref<?xi64>, %t: memref<256x64xf32>, %h: memref<?x64xbf16>) {
  // expected-error @+1 {{'gcu.embedding' op element types of the float operands must agree}}
  gcu.embedding ins(%ids, %t : memref<?xi64>, memref<256x64xf32>) outs(%h : memref<?x64xbf16>)
  return
}

// -----

func.func @quant_gemm_in_features(%x: memref<?x48xf32>, %c: memref<128x32xi8>, %s: memref<128x4xf32>, %z: memref<128x4xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op input features do not match the 64 the codes stand for (32 bytes of 4-bit codes per row)}}
  gcu.quant_gemm ins(%x, %c : memref<?x48xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>) zeros(%z : memref<128x4xf32>) outs(%y : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true>
  return
}

// -----

func.func @quant_gemm_missing_zeros(%x: memref<?x64xf32>, %c: memref<128x32xi8>, %s: memref<128x4xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op the scheme has zero points but no zeros are given}}
  gcu.quant_gemm ins(%x, %c : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>) outs(%y : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true>
  return
}

// -----

func.func @quant_gemm_groups(%x: memref<?x64xf32>, %c: memref<128x32xi8>, %s: memref<128x2xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op scales have 2 groups; 64 columns in groups of 16 make 4}}
  gcu.quant_gemm ins(%x, %c : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x2xf32>) outs(%y : memref<?x128xf32>) quant <codes = uint4, block_cols = 16>
  return
}

// -----

func.func @quant_gemm_row_blocks(%x: memref<?x64xf32>, %c: memref<256x64xi8>, %s: memref<1x1xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op scales have 1 row blocks; 256 rows in blocks of 128 make 2}}
  gcu.quant_gemm ins(%x, %c : memref<?x64xf32>, memref<256x64xi8>) scales(%s : memref<1x1xf32>) outs(%y : memref<?x256xf32>) quant <codes = fp8_e4m3, block_rows = 128, block_cols = 128>
  return
}

// -----

func.func @quant_gemm_act_order(%x: memref<?x64xf32>, %c: memref<128x32xi8>, %s: memref<128x4xf32>, %z: memref<128x4xf32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op an act-order scheme needs g_idx}}
  gcu.quant_gemm ins(%x, %c : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>) zeros(%z : memref<128x4xf32>) outs(%y : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true, act_order = true>
  return
}

// -----

func.func @quant_gemm_g_idx(%x: memref<?x64xf32>, %c: memref<128x32xi8>, %s: memref<128x4xf32>, %z: memref<128x4xf32>, %g: memref<32xi32>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.quant_gemm' op g_idx shape [32] does not match the expected [64]}}
  gcu.quant_gemm ins(%x, %c : memref<?x64xf32>, memref<128x32xi8>) scales(%s : memref<128x4xf32>) zeros(%z : memref<128x4xf32>) g_idx(%g : memref<32xi32>) outs(%y : memref<?x128xf32>) quant <codes = uint4, block_cols = 16, zero_point = true, act_order = true>
  return
}

// -----

func.func @quant_fused_moe_blocks(%x: memref<?x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>, %gu: memref<256x64xi8>, %gus: memref<2x1xf32>, %d: memref<512x16xi8>, %ds: memref<4x1xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.quant_fused_moe' op every expert's rows must be whole blocks of 128 rows (gate_up 32, down 64)}}
  gcu.quant_fused_moe ins(%x, %w, %ids : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>) gate_up(%gu, %gus : memref<256x64xi8>, memref<2x1xf32>) down(%d, %ds : memref<512x16xi8>, memref<4x1xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64} quant <codes = fp8_e4m3, block_rows = 128, block_cols = 128>
  return
}

// -----

func.func @quant_fused_moe_codes(%x: memref<?x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>, %gu: memref<128x32xi8>, %gus: memref<128x4xf32>, %d: memref<512x8xi8>, %ds: memref<512x1xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.quant_fused_moe' op gate_up codes shape [128, 32] does not match the expected [256, 32]}}
  gcu.quant_fused_moe ins(%x, %w, %ids : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>) gate_up(%gu, %gus : memref<128x32xi8>, memref<128x4xf32>) down(%d, %ds : memref<512x8xi8>, memref<512x1xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64} quant <codes = uint4, block_cols = 16>
  return
}

// -----

func.func @gemm_weight_rank(%x: memref<?x64xf32>, %w: memref<64xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.gemm' op weight must be [N, K]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<64xf32>) outs(%y : memref<?x64xf32>)
  return
}

// -----

func.func @gemm_in_features(%x: memref<?x32xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op input features do not match the weight's 64}}
  gcu.gemm ins(%x, %w : memref<?x32xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_scalar_input(%x: memref<f32>, %w: memref<256x64xf32>, %y: memref<256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op input features do not match the weight's 64}}
  gcu.gemm ins(%x, %w : memref<f32>, memref<256x64xf32>) outs(%y : memref<256xf32>)
  return
}

// -----

func.func @gemm_gated_odd(%x: memref<?x64xf32>, %w: memref<255x64xf32>, %y: memref<?x127xf32>) {
  // expected-error @+1 {{'gcu.gemm' op a gated epilogue needs an even number of output features}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<255x64xf32>) outs(%y : memref<?x127xf32>) epilogue gelu_tanh_and_mul
  return
}

// -----

func.func @gemm_output_shape(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) {
  // The gated epilogue halves the width.
  // expected-error @+1 {{'gcu.gemm' op output shape [?, 256] does not match the expected [?, 128]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>) epilogue silu_and_mul
  return
}

// -----

func.func @gemm_output_rank(%x: memref<2x?x64xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op output shape [?, 256] does not match the expected [2, ?, 256]}}
  gcu.gemm ins(%x, %w : memref<2x?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf32>) epilogue gelu
  return
}

// -----

func.func @gemm_bias_shape(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<128xf32>, %y: memref<?x128xf32>) {
  // The bias is added before the epilogue, so it has the full N.
  // expected-error @+1 {{'gcu.gemm' op bias shape [128] does not match the expected [256]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<128xf32>) outs(%y : memref<?x128xf32>) epilogue silu_and_mul
  return
}

// -----

func.func @gemm_residual_shape(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<256xf32>, %r: memref<?x128xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op residual shape [?, 128] does not match the expected [?, 256]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>) residual(%r : memref<?x128xf32>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_residual_without_bias_shape(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %r: memref<?x256xf32>, %y: memref<?x128xf32>) {
  // The residual is added after the epilogue, so it has the output's (halved) shape.
  // expected-error @+1 {{'gcu.gemm' op residual shape [?, 256] does not match the expected [?, 128]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) residual(%r : memref<?x256xf32>) outs(%y : memref<?x128xf32>) epilogue gelu_and_mul
  return
}

// -----

// A gated epilogue with a dynamic N leaves the expected output width dynamic.
func.func @gemm_gated_dynamic_n_rank(%x: memref<?x64xf32>, %w: memref<?x64xf32>, %y: memref<?xf32>) {
  // expected-error @+1 {{'gcu.gemm' op output shape [?] does not match the expected [?, ?]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<?x64xf32>) outs(%y : memref<?xf32>) epilogue silu_and_mul
  return
}

// -----

func.func @gemm_dynamic_n_bias_rank(%x: memref<?x64xf32>, %w: memref<?x64xf32>, %b: memref<1x?xf32>, %y: memref<?x?xf32>) {
  // expected-error @+1 {{'gcu.gemm' op bias shape [1, ?] does not match the expected [?]}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<?x64xf32>) bias(%b : memref<1x?xf32>) outs(%y : memref<?x?xf32>) epilogue silu_and_mul
  return
}

// -----

func.func @gemm_bias_element_type(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<256xbf16>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op element types of the float operands must agree}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xbf16>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_residual_element_type(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<256xf32>, %r: memref<?x256xf16>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op element types of the float operands must agree}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) bias(%b : memref<256xf32>) residual(%r : memref<?x256xf16>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_residual_without_bias_element_type(%x: memref<?x64xbf16>, %w: memref<256x64xbf16>, %r: memref<?x256xf32>, %y: memref<?x256xbf16>) {
  // expected-error @+1 {{'gcu.gemm' op element types of the float operands must agree}}
  gcu.gemm ins(%x, %w : memref<?x64xbf16>, memref<256x64xbf16>) residual(%r : memref<?x256xf32>) outs(%y : memref<?x256xbf16>)
  return
}

// -----

// bias and residual are separate groups after ins, in that order.
func.func @gemm_residual_before_bias(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %b: memref<256xf32>, %r: memref<?x256xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{custom op 'gcu.gemm' expected 'outs'}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) residual(%r : memref<?x256xf32>) bias(%b : memref<256xf32>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_element_types(%x: memref<?x64xbf16>, %w: memref<256x64xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.gemm' op element types of the float operands must agree}}
  gcu.gemm ins(%x, %w : memref<?x64xbf16>, memref<256x64xf32>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gemm_output_element_type(%x: memref<?x64xf32>, %w: memref<256x64xf32>, %y: memref<?x256xf16>) {
  // expected-error @+1 {{'gcu.gemm' op element types of the float operands must agree}}
  gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>) outs(%y : memref<?x256xf16>)
  return
}

// -----

func.func @batch_matmul_rank(%a: memref<16xf32>, %b: memref<16x8xf32>, %c: memref<8xf32>) {
  // expected-error @+1 {{'gcu.batch_matmul' op operands must have rank of at least 2}}
  gcu.batch_matmul ins(%a, %b : memref<16xf32>, memref<16x8xf32>) outs(%c : memref<8xf32>)
  return
}

// -----

func.func @batch_matmul_contraction(%a: memref<4x?x16xf32>, %b: memref<4x8x?xf32>, %c: memref<4x?x?xf32>) {
  // expected-error @+1 {{'gcu.batch_matmul' op contraction dimensions disagree}}
  gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<4x8x?xf32>) outs(%c : memref<4x?x?xf32>)
  return
}

// -----

func.func @batch_matmul_batch(%a: memref<4x?x16xf32>, %b: memref<3x16x?xf32>, %c: memref<4x?x?xf32>) {
  // expected-error @+1 {{'gcu.batch_matmul' op batch dimensions do not broadcast}}
  gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<3x16x?xf32>) outs(%c : memref<4x?x?xf32>)
  return
}

// -----

func.func @batch_matmul_output_shape(%a: memref<4x?x16xf32>, %b: memref<16x8xf32>, %c: memref<4x?x16xf32>) {
  // expected-error @+1 {{'gcu.batch_matmul' op output shape [4, ?, 16] does not match the expected [4, ?, 8]}}
  gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<16x8xf32>) outs(%c : memref<4x?x16xf32>)
  return
}

// -----

func.func @batch_matmul_element_types(%a: memref<4x?x16xf32>, %b: memref<4x16x?xbf16>, %c: memref<4x?x?xf32>) {
  // expected-error @+1 {{'gcu.batch_matmul' op element types of the float operands must agree}}
  gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<4x16x?xbf16>) outs(%c : memref<4x?x?xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

func.func @rms_norm_scalar_input(%x: memref<f32>, %w: memref<64xf32>, %y: memref<f32>) {
  // expected-error @+1 {{'gcu.rms_norm' op input must have at least one dimension}}
  gcu.rms_norm ins(%x, %w : memref<f32>, memref<64xf32>) outs(%y : memref<f32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @rms_norm_weight_rank(%x: memref<?x64xf32>, %w: memref<1x64xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.rms_norm' op weight must be one-dimensional, got rank 2}}
  gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<1x64xf32>) outs(%y : memref<?x64xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @rms_norm_weight_length(%x: memref<?x64xf32>, %w: memref<32xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.rms_norm' op weight length 32 does not match the last input dimension 64}}
  gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<32xf32>) outs(%y : memref<?x64xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @rms_norm_epsilon(%x: memref<?x64xf32>, %w: memref<64xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<64xf32>) outs(%y : memref<?x64xf32>) {epsilon = 0.0 : f64}
  return
}

// -----

func.func @rms_norm_output_shape(%x: memref<?x64xf32>, %w: memref<64xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rms_norm' op output shape [?, 32] does not match the expected [?, 64]}}
  gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<64xf32>) outs(%y : memref<?x32xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @rms_norm_element_types(%x: memref<?x64xbf16>, %w: memref<64xf16>, %y: memref<?x64xbf16>) {
  // expected-error @+1 {{'gcu.rms_norm' op weight element type 'f16' does not match the input element type 'bf16'}}
  gcu.rms_norm ins(%x, %w : memref<?x64xbf16>, memref<64xf16>) outs(%y : memref<?x64xbf16>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_add_rms_norm_weight(%w: memref<128xf32>, %x: memref<?x64xf32>, %r: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_add_rms_norm' op weight length 128 does not match the last input dimension 64}}
  gcu.fused_add_rms_norm ins(%w : memref<128xf32>) inouts(%x, %r : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_add_rms_norm_epsilon(%w: memref<64xf32>, %x: memref<?x64xf32>, %r: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_add_rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.fused_add_rms_norm ins(%w : memref<64xf32>) inouts(%x, %r : memref<?x64xf32>, memref<?x64xf32>) {epsilon = -1.0 : f64}
  return
}

// -----

func.func @fused_add_rms_norm_residual_type(%w: memref<64xf32>, %x: memref<?x64xf32>, %r: memref<4x64xf32>) {
  // expected-error @+1 {{'gcu.fused_add_rms_norm' op input and residual must have the same type}}
  gcu.fused_add_rms_norm ins(%w : memref<64xf32>) inouts(%x, %r : memref<?x64xf32>, memref<4x64xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_add_rms_norm_element_types(%w: memref<64xf16>, %x: memref<?x64xbf16>, %r: memref<?x64xbf16>) {
  // expected-error @+1 {{'gcu.fused_add_rms_norm' op weight element type 'f16' does not match the input element type 'bf16'}}
  gcu.fused_add_rms_norm ins(%w : memref<64xf16>) inouts(%x, %r : memref<?x64xbf16>, memref<?x64xbf16>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @all_reduce_fused_add_rms_norm_scalar(%w: memref<64xf32>, %x: memref<f32>, %r: memref<f32>) {
  // expected-error @+1 {{'gcu.all_reduce_fused_add_rms_norm' op input must have at least one dimension}}
  gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf32>) inouts(%x, %r : memref<f32>, memref<f32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @all_reduce_fused_add_rms_norm_epsilon(%w: memref<64xf32>, %x: memref<?x64xf32>, %r: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.all_reduce_fused_add_rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf32>) inouts(%x, %r : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 0.0 : f64}
  return
}

// -----

func.func @all_reduce_fused_add_rms_norm_residual_type(%w: memref<64xf32>, %x: memref<?x64xf32>, %r: memref<?x64xf16>) {
  // expected-error @+1 {{'gcu.all_reduce_fused_add_rms_norm' op input and residual must have the same type}}
  gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf32>) inouts(%x, %r : memref<?x64xf32>, memref<?x64xf16>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @all_reduce_fused_add_rms_norm_element_types(%w: memref<64xf16>, %x: memref<?x64xf32>, %r: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.all_reduce_fused_add_rms_norm' op weight element type 'f16' does not match the input element type 'f32'}}
  gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf16>) inouts(%x, %r : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @layer_norm_weight(%x: memref<?x768xf32>, %w: memref<64xf32>, %b: memref<768xf32>, %y: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.layer_norm' op weight length 64 does not match the last input dimension 768}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf32>, memref<64xf32>, memref<768xf32>) outs(%y : memref<?x768xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @layer_norm_bias(%x: memref<?x768xf32>, %w: memref<768xf32>, %b: memref<384xf32>, %y: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.layer_norm' op bias length 384 does not match the last input dimension 768}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf32>, memref<768xf32>, memref<384xf32>) outs(%y : memref<?x768xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @layer_norm_bias_rank(%x: memref<?x768xf32>, %w: memref<768xf32>, %b: memref<1x768xf32>, %y: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.layer_norm' op bias must be one-dimensional, got rank 2}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf32>, memref<768xf32>, memref<1x768xf32>) outs(%y : memref<?x768xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @fused_add_layer_norm_bias(%w: memref<768xf32>, %b: memref<384xf32>, %x: memref<?x768xf32>, %r: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.fused_add_layer_norm' op bias length 384 does not match the last input dimension 768}}
  gcu.fused_add_layer_norm ins(%w, %b : memref<768xf32>, memref<384xf32>) inouts(%x, %r : memref<?x768xf32>, memref<?x768xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @all_reduce_fused_add_layer_norm_bias_type(%w: memref<768xf32>, %b: memref<768xf16>, %x: memref<?x768xf32>, %r: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.all_reduce_fused_add_layer_norm' op bias element type 'f16' does not match the input element type 'f32'}}
  gcu.all_reduce_fused_add_layer_norm ins(%w, %b : memref<768xf32>, memref<768xf16>) inouts(%x, %r : memref<?x768xf32>, memref<?x768xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @layer_norm_epsilon(%x: memref<?x768xf32>, %w: memref<768xf32>, %b: memref<768xf32>, %y: memref<?x768xf32>) {
  // expected-error @+1 {{'gcu.layer_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf32>, memref<768xf32>, memref<768xf32>) outs(%y : memref<?x768xf32>) {epsilon = 0.0 : f64}
  return
}

// -----

func.func @layer_norm_output_shape(%x: memref<?x768xf32>, %w: memref<768xf32>, %b: memref<768xf32>, %y: memref<?x384xf32>) {
  // expected-error @+1 {{'gcu.layer_norm' op output shape [?, 384] does not match the expected [?, 768]}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf32>, memref<768xf32>, memref<768xf32>) outs(%y : memref<?x384xf32>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

func.func @layer_norm_element_types(%x: memref<?x768xf16>, %w: memref<768xf16>, %b: memref<768xf32>, %y: memref<?x768xf16>) {
  // expected-error @+1 {{'gcu.layer_norm' op bias element type 'f32' does not match the input element type 'f16'}}
  gcu.layer_norm ins(%x, %w, %b : memref<?x768xf16>, memref<768xf16>, memref<768xf32>) outs(%y : memref<?x768xf16>) {epsilon = 1.0e-05 : f64}
  return
}

// -----

//===----------------------------------------------------------------------===//
// gcu.rotary_embedding, gcu.reshape_and_cache
//===----------------------------------------------------------------------===//

func.func @rotary_dim_odd(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op rotary_dim 15 must be even and within (0, 16]}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 15 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_dim_too_big(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op rotary_dim 32 must be even and within (0, 16]}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) gptj {head_dim = 16 : i64, rotary_dim = 32 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_head_dim(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op attribute 'head_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 0 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_negative_head_dim(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op attribute 'head_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = -16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_negative_rotary_dim(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op attribute 'rotary_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = -16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_theta(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op attribute 'theta' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = -1.0 : f64}
  return
}

// -----

func.func @rotary_query_width(%pos: memref<?xi64>, %q: memref<?x60xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op query and key must be [tokens, heads x head_dim]}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x60xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_key_rank(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x2x16xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op query and key must be [tokens, heads x head_dim]}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x2x16xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_positions_rank(%pos: memref<1x?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op positions must be one-dimensional}}
  gcu.rotary_embedding ins(%pos : memref<1x?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_query_tokens(%pos: memref<4xi64>, %q: memref<8x64xf32>, %k: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op query/key and positions disagree on the number of tokens}}
  gcu.rotary_embedding ins(%pos : memref<4xi64>) inouts(%q, %k : memref<8x64xf32>, memref<?x32xf32>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_key_tokens(%pos: memref<4xi64>, %q: memref<?x64xf32>, %k: memref<2x32xf32>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op query/key and positions disagree on the number of tokens}}
  gcu.rotary_embedding ins(%pos : memref<4xi64>) inouts(%q, %k : memref<?x64xf32>, memref<2x32xf32>) gptj {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @rotary_element_types(%pos: memref<?xi64>, %q: memref<?x64xf32>, %k: memref<?x32xbf16>) {
  // expected-error @+1 {{'gcu.rotary_embedding' op element types of the float operands must agree}}
  gcu.rotary_embedding ins(%pos : memref<?xi64>) inouts(%q, %k : memref<?x64xf32>, memref<?x32xbf16>) neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @reshape_and_cache_rank(%k: memref<?x32xf32>, %v: memref<?x32xf32>, %s: memref<?xi64>, %kc: memref<?x64x32xf32>, %vc: memref<?x64x32xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op caches must be [blocks, block_size, kv_heads, head_dim]}}
  gcu.reshape_and_cache ins(%k, %v, %s : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>) inouts(%kc, %vc : memref<?x64x32xf32>, memref<?x64x32xf32>)
  return
}

// -----

func.func @reshape_and_cache_cache_types(%k: memref<?x32xf32>, %v: memref<?x32xf32>, %s: memref<?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x32x2x16xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op key and value caches must have the same type}}
  gcu.reshape_and_cache ins(%k, %v, %s : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x32x2x16xf32>)
  return
}

// -----

func.func @reshape_and_cache_key(%k: memref<?x64xf32>, %v: memref<?x32xf32>, %s: memref<?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op key must be [tokens, 2 x 16], got [?, 64]}}
  gcu.reshape_and_cache ins(%k, %v, %s : memref<?x64xf32>, memref<?x32xf32>, memref<?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
  return
}

// -----

func.func @reshape_and_cache_value(%k: memref<?x32xf32>, %v: memref<?x2x16xf32>, %s: memref<?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op value must be [tokens, 2 x 16], got [?, 2, 16]}}
  gcu.reshape_and_cache ins(%k, %v, %s : memref<?x32xf32>, memref<?x2x16xf32>, memref<?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
  return
}

// -----

func.func @reshape_and_cache_element_types(%k: memref<?x32xbf16>, %v: memref<?x32xbf16>, %s: memref<?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op a float cache must have the activations' element type 'bf16'}}
  gcu.reshape_and_cache ins(%k, %v, %s : memref<?x32xbf16>, memref<?x32xbf16>, memref<?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Attention (shared attribute rules checked on both attention ops)
//===----------------------------------------------------------------------===//

func.func @paged_attention_positive(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op attribute 'num_kv_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 0 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_divisibility(%q: memref<?x64xf32>, %kc: memref<?x64x3x16xf32>, %vc: memref<?x64x3x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op num_heads 4 is not divisible by num_kv_heads 3}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x3x16xf32>, memref<?x64x3x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_scale(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.0 : f64}
  return
}

// -----

func.func @paged_attention_sliding_window(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, sliding_window = 0 : i64}
  return
}

// -----

func.func @paged_attention_negative_sliding_window(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, sliding_window = -1 : i64}
  return
}

// -----

func.func @paged_attention_query(%q: memref<?x32xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op query must be [tokens, 4 x 16], got [?, 32]}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x32xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_output(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x4x16xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op output must be [tokens, 4 x 16], got [?, 4, 16]}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x4x16xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_key_cache(%q: memref<?x64xf32>, %kc: memref<?x64x4x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op cache shape [?, 64, 4, 16] is not [blocks, block_size, 2, 16]}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x4x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_value_cache(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x32xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op cache shape [?, 64, 32] is not [blocks, block_size, 2, 16]}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_element_types(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xbf16>, %vc: memref<?x64x2x16xbf16>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op a float cache must have the activations' element type 'f32'}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xbf16>, memref<?x64x2x16xbf16>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_divisibility(%q: memref<?x64xf32>, %k: memref<?x48xf32>, %v: memref<?x48xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x3x16xf32>, %vc: memref<?x64x3x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op num_heads 4 is not divisible by num_kv_heads 3}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x48xf32>, memref<?x48xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x3x16xf32>, memref<?x64x3x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_key(%q: memref<?x64xf32>, %k: memref<?x16xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op key must be [tokens, 2 x 16], got [?, 16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x16xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_value(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x64xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op value must be [tokens, 2 x 16], got [?, 64]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x64xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_key_cache(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x8xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op cache shape [?, 64, 2, 8] is not [blocks, block_size, 2, 16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x8xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_value_cache(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x1x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op cache shape [?, 64, 1, 16] is not [blocks, block_size, 2, 16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x1x16xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_rotary_without_theta(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op rotary_style, rotary_dim and theta must be given together}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill rotary neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = 16 : i64}
  return
}

// -----

func.func @fused_attention_rotary_without_style(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op rotary_style, rotary_dim and theta must be given together}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @fused_attention_style_without_rotary(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op rotary_style, rotary_dim and theta must be given together}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) decode rotary gptj {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_rotary_dim(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op rotary_dim 7 must be even and within (0, 16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill rotary neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = 7 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @fused_attention_theta(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op attribute 'theta' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill rotary neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = 16 : i64, theta = 0.0 : f64}
  return
}

// -----

// Each of q_norm and k_norm alone can only be written in the generic form: the custom form's
// qk_norm group takes both weights.
func.func @fused_attention_q_norm_only(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %nw: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q_norm and k_norm weights must be given together}}
  "gcu.fused_rope_cache_attention"(%q, %k, %v, %pos, %s, %qsl, %lens, %bt, %nw, %kc, %vc, %o) <{head_dim = 16 : i64, norm_epsilon = 1.0e-06 : f64, num_heads = 4 : i64, num_kv_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1>, phase = 0 : i32, scale = 2.500000e-01 : f64}> : (memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>, memref<16xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?x64xf32>) -> ()
  return
}

// -----

func.func @fused_attention_k_norm_only(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %nw: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q_norm and k_norm weights must be given together}}
  "gcu.fused_rope_cache_attention"(%q, %k, %v, %pos, %s, %qsl, %lens, %bt, %nw, %kc, %vc, %o) <{head_dim = 16 : i64, norm_epsilon = 1.0e-06 : f64, num_heads = 4 : i64, num_kv_heads = 2 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 1>, phase = 0 : i32, scale = 2.500000e-01 : f64}> : (memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>, memref<16xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?x64xf32>) -> ()
  return
}

// -----

func.func @fused_attention_qk_norm_one_weight(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %nw: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{expected ','}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%nw : memref<16xf32>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, norm_epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_attention_norm_epsilon(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %nw: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q/k norm needs norm_epsilon}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%nw, %nw : memref<16xf32>, memref<16xf32>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_norm_weight(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %qn: memref<16xf32>, %kn: memref<32xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q/k norm weight shape [32] does not match the expected [16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%qn, %kn : memref<16xf32>, memref<32xf32>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, norm_epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_attention_q_norm_weight(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %qn: memref<8xf32>, %kn: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q/k norm weight shape [8] does not match the expected [16]}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%qn, %kn : memref<8xf32>, memref<16xf32>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill rotary neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, norm_epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @fused_attention_negative_sliding_window(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, sliding_window = -4096 : i64}
  return
}

// -----

func.func @fused_attention_negative_rotary_dim(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op attribute 'rotary_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill rotary gptj {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, rotary_dim = -8 : i64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @fused_attention_element_types(%q: memref<?x64xbf16>, %k: memref<?x32xbf16>, %v: memref<?x32xbf16>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xbf16>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op a float cache must have the activations' element type 'bf16'}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xbf16>, memref<?x32xbf16>, memref<?x32xbf16>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xbf16>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

//===----------------------------------------------------------------------===//
// Gated activations and collectives
//===----------------------------------------------------------------------===//

func.func @silu_and_mul_odd(%x: memref<?x255xf32>, %y: memref<?x127xf32>) {
  // expected-error @+1 {{'gcu.silu_and_mul' op last input dimension must be even}}
  gcu.silu_and_mul ins(%x : memref<?x255xf32>) outs(%y : memref<?x127xf32>)
  return
}

// -----

func.func @silu_and_mul_scalar(%x: memref<f32>, %y: memref<f32>) {
  // expected-error @+1 {{'gcu.silu_and_mul' op last input dimension must be even}}
  gcu.silu_and_mul ins(%x : memref<f32>) outs(%y : memref<f32>)
  return
}

// -----

func.func @silu_and_mul_output(%x: memref<?x256xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.silu_and_mul' op output shape [?, 256] does not match the expected [?, 128]}}
  gcu.silu_and_mul ins(%x : memref<?x256xf32>) outs(%y : memref<?x256xf32>)
  return
}

// -----

func.func @gelu_and_mul_element_types(%x: memref<?x256xbf16>, %y: memref<?x128xf32>) {
  // expected-error @+1 {{'gcu.gelu_and_mul' op element types of the float operands must agree}}
  gcu.gelu_and_mul ins(%x : memref<?x256xbf16>) outs(%y : memref<?x128xf32>)
  return
}

// -----

func.func @gelu_and_mul_odd(%x: memref<4x9xf16>, %y: memref<4x4xf16>) {
  // expected-error @+1 {{'gcu.gelu_and_mul' op last input dimension must be even}}
  gcu.gelu_and_mul ins(%x : memref<4x9xf16>) outs(%y : memref<4x4xf16>)
  return
}

// -----

func.func @gelu_tanh_and_mul_output(%x: memref<?x256xf32>, %y: memref<1x?x128xf32>) {
  // expected-error @+1 {{'gcu.gelu_tanh_and_mul' op output shape [1, ?, 128] does not match the expected [?, 128]}}
  gcu.gelu_tanh_and_mul ins(%x : memref<?x256xf32>) outs(%y : memref<1x?x128xf32>)
  return
}

// -----

func.func @gelu_tanh_and_mul_odd(%x: memref<?x3xf32>, %y: memref<?x1xf32>) {
  // expected-error @+1 {{'gcu.gelu_tanh_and_mul' op last input dimension must be even}}
  gcu.gelu_tanh_and_mul ins(%x : memref<?x3xf32>) outs(%y : memref<?x1xf32>)
  return
}

// -----

func.func @all_reduce_scalar(%x: memref<f32>) {
  // expected-error @+1 {{'gcu.all_reduce' op buffer must have at least one dimension}}
  gcu.all_reduce inouts(%x : memref<f32>)
  return
}

// -----

func.func @all_gather_dim(%x: memref<?x128xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.all_gather' op dim 2 is out of range}}
  gcu.all_gather ins(%x : memref<?x128xf32>) outs(%y : memref<?x256xf32>) {dim = 2 : i64}
  return
}

// -----

func.func @all_gather_negative_dim(%x: memref<?x128xf32>, %y: memref<?x256xf32>) {
  // expected-error @+1 {{'gcu.all_gather' op dim -3 is out of range}}
  gcu.all_gather ins(%x : memref<?x128xf32>) outs(%y : memref<?x256xf32>) {dim = -3 : i64}
  return
}

// -----

func.func @all_gather_ranks(%x: memref<?x128xf32>, %y: memref<2x?x128xf32>) {
  // expected-error @+1 {{'gcu.all_gather' op input and output ranks must agree}}
  gcu.all_gather ins(%x : memref<?x128xf32>) outs(%y : memref<2x?x128xf32>) {dim = 0 : i64}
  return
}

// -----

func.func @all_gather_element_types(%x: memref<?x128xf32>, %y: memref<?x256xbf16>) {
  // expected-error @+1 {{'gcu.all_gather' op element types of the float operands must agree}}
  gcu.all_gather ins(%x : memref<?x128xf32>) outs(%y : memref<?x256xbf16>) {dim = 1 : i64}
  return
}

// -----

//===----------------------------------------------------------------------===//
// Generic kernels
//===----------------------------------------------------------------------===//

func.func @binary_operand_types(%a: memref<?x64xf32>, %b: memref<64xbf16>, %c: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.binary' op operand element types must agree}}
  gcu.binary add ins(%a, %b : memref<?x64xf32>, memref<64xbf16>) outs(%c : memref<?x64xf32>)
  return
}

// -----

func.func @binary_logical_or_not_boolean(%a: memref<?x?xi64>, %b: memref<?x?xi64>, %c: memref<?x?xi64>) {
  // expected-error @+1 {{'gcu.binary' op logical_or needs boolean (i1) operands}}
  gcu.binary logical_or ins(%a, %b : memref<?x?xi64>, memref<?x?xi64>) outs(%c : memref<?x?xi64>)
  return
}

// -----

func.func @binary_logical_or_float(%a: memref<?x64xf32>, %b: memref<64xf32>, %c: memref<?x64xi1>) {
  // expected-error @+1 {{'gcu.binary' op logical_or needs boolean (i1) operands}}
  gcu.binary logical_or ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xi1>)
  return
}

// -----

func.func @binary_logical_or_output_type(%a: memref<?x?xi1>, %b: memref<?x?xi1>, %c: memref<?x?xf32>) {
  // expected-error @+1 {{'gcu.binary' op output element type must be 'i1'}}
  gcu.binary logical_or ins(%a, %b : memref<?x?xi1>, memref<?x?xi1>) outs(%c : memref<?x?xf32>)
  return
}

// -----

func.func @binary_arith_output_type(%a: memref<?x64xf32>, %b: memref<64xf32>, %c: memref<?x64xi1>) {
  // expected-error @+1 {{'gcu.binary' op output element type must be 'f32'}}
  gcu.binary mul ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xi1>)
  return
}

// -----

func.func @binary_compare_output_type(%a: memref<1x?xi64>, %b: memref<?x1xi64>, %c: memref<?x?xi64>) {
  // expected-error @+1 {{'gcu.binary' op output element type must be 'i1'}}
  gcu.binary gt ins(%a, %b : memref<1x?xi64>, memref<?x1xi64>) outs(%c : memref<?x?xi64>)
  return
}

// -----

func.func @binary_no_broadcast(%a: memref<?x64xf32>, %b: memref<32xf32>, %c: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.binary' op operand shapes do not broadcast}}
  gcu.binary sub ins(%a, %b : memref<?x64xf32>, memref<32xf32>) outs(%c : memref<?x64xf32>)
  return
}

// -----

func.func @binary_output_shape(%a: memref<?x1xf32>, %b: memref<64xf32>, %c: memref<?x1xf32>) {
  // expected-error @+1 {{'gcu.binary' op output shape [?, 1] does not match the expected [?, 64]}}
  gcu.binary div ins(%a, %b : memref<?x1xf32>, memref<64xf32>) outs(%c : memref<?x1xf32>)
  return
}

// -----

func.func @unary_output_shape(%x: memref<?x64xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.unary' op output shape [?, 32] does not match the expected [?, 64]}}
  gcu.unary exp ins(%x : memref<?x64xf32>) outs(%y : memref<?x32xf32>)
  return
}

// -----

func.func @unary_element_type(%x: memref<?x64xbf16>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.unary' op only a cast changes the element type}}
  gcu.unary copy ins(%x : memref<?x64xbf16>) outs(%y : memref<?x64xf32>)
  return
}

// -----

func.func @where_element_types(%m: memref<?x?xi1>, %a: memref<f32>, %b: memref<4x?x?xf16>, %c: memref<4x?x?xf16>) {
  // expected-error @+1 {{'gcu.where' op value and output element types must agree}}
  gcu.where ins(%m, %a, %b : memref<?x?xi1>, memref<f32>, memref<4x?x?xf16>) outs(%c : memref<4x?x?xf16>)
  return
}

// -----

func.func @where_output_element_type(%m: memref<?x?xi1>, %a: memref<f32>, %b: memref<4x?x?xf32>, %c: memref<4x?x?xbf16>) {
  // expected-error @+1 {{'gcu.where' op value and output element types must agree}}
  gcu.where ins(%m, %a, %b : memref<?x?xi1>, memref<f32>, memref<4x?x?xf32>) outs(%c : memref<4x?x?xbf16>)
  return
}

// -----

func.func @where_no_broadcast(%m: memref<8x8xi1>, %a: memref<f32>, %b: memref<4x8x7xf32>, %c: memref<4x8x8xf32>) {
  // expected-error @+1 {{'gcu.where' op operand shapes do not broadcast}}
  gcu.where ins(%m, %a, %b : memref<8x8xi1>, memref<f32>, memref<4x8x7xf32>) outs(%c : memref<4x8x8xf32>)
  return
}

// -----

func.func @where_output_shape(%m: memref<?x?xi1>, %a: memref<f32>, %b: memref<4x?x?xf32>, %c: memref<?x?xf32>) {
  // expected-error @+1 {{'gcu.where' op output shape [?, ?] does not match the expected [4, ?, ?]}}
  gcu.where ins(%m, %a, %b : memref<?x?xi1>, memref<f32>, memref<4x?x?xf32>) outs(%c : memref<?x?xf32>)
  return
}

// -----

func.func @where_condition_type(%m: memref<?x?xf32>, %a: memref<f32>, %b: memref<?x?xf32>, %c: memref<?x?xf32>) {
  // expected-error @+1 {{'gcu.where' op operand #0 must be memref of 1-bit signless integer values, but got 'memref<?x?xf32>'}}
  gcu.where ins(%m, %a, %b : memref<?x?xf32>, memref<f32>, memref<?x?xf32>) outs(%c : memref<?x?xf32>)
  return
}

// -----

func.func @reduce_dim_range(%x: memref<?x64xf32>, %y: memref<?x1xf32>) {
  // expected-error @+1 {{'gcu.reduce' op dim 2 is out of range for rank 2}}
  gcu.reduce mean ins(%x : memref<?x64xf32>) outs(%y : memref<?x1xf32>) {dims = array<i64: 2>, keepdim}
  return
}

// -----

func.func @reduce_duplicate_dim(%x: memref<?x64xf32>, %y: memref<?xf32>) {
  // expected-error @+1 {{'gcu.reduce' op dim 1 is reduced twice}}
  gcu.reduce sum ins(%x : memref<?x64xf32>) outs(%y : memref<?xf32>) {dims = array<i64: -1, 1>}
  return
}

// -----

func.func @reduce_no_dims(%x: memref<?x64xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.reduce' op needs at least one dimension to reduce}}
  gcu.reduce sum ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>) {dims = array<i64>}
  return
}

// -----

func.func @reduce_output_shape(%x: memref<?x64xf32>, %y: memref<?x1xf32>) {
  // expected-error @+1 {{'gcu.reduce' op output shape [?, 1] does not match the expected [?]}}
  gcu.reduce mean ins(%x : memref<?x64xf32>) outs(%y : memref<?x1xf32>) {dims = array<i64: 1>}
  return
}

// -----

func.func @reduce_element_types(%x: memref<?x64xf32>, %y: memref<?x1xbf16>) {
  // expected-error @+1 {{'gcu.reduce' op element types of the float operands must agree}}
  gcu.reduce mean ins(%x : memref<?x64xf32>) outs(%y : memref<?x1xbf16>) {dims = array<i64: 1>, keepdim}
  return
}

// -----

func.func @softmax_dim(%x: memref<4x?x?xf32>, %y: memref<4x?x?xf32>) {
  // expected-error @+1 {{'gcu.softmax' op dim 3 is out of range}}
  gcu.softmax ins(%x : memref<4x?x?xf32>) outs(%y : memref<4x?x?xf32>) {dim = 3 : i64}
  return
}

// -----

func.func @softmax_negative_dim(%x: memref<?x64xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.softmax' op dim -3 is out of range}}
  gcu.softmax ins(%x : memref<?x64xf32>) outs(%y : memref<?x64xf32>) {dim = -3 : i64}
  return
}

// -----

func.func @softmax_output_shape(%x: memref<4x?x?xf32>, %y: memref<?x?xf32>) {
  // expected-error @+1 {{'gcu.softmax' op output shape [?, ?] does not match the expected [4, ?, ?]}}
  gcu.softmax ins(%x : memref<4x?x?xf32>) outs(%y : memref<?x?xf32>) {dim = 2 : i64}
  return
}

// -----

func.func @softmax_element_types(%x: memref<4x?x?xf32>, %y: memref<4x?x?xf16>) {
  // expected-error @+1 {{'gcu.softmax' op element types of the float operands must agree}}
  gcu.softmax ins(%x : memref<4x?x?xf32>) outs(%y : memref<4x?x?xf16>) {dim = -1 : i64}
  return
}

// -----

// An empty input list cannot be written in the custom form, so this case uses the generic form.
func.func @concat_no_inputs(%c: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op needs at least one input}}
  "gcu.concat"(%c) <{dim = 0 : i64}> : (memref<?x16xf32>) -> ()
  return
}

// -----

func.func @concat_dim(%a: memref<?x8xf32>, %b: memref<?x8xf32>, %c: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op dim 2 is out of range}}
  gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x8xf32>) outs(%c : memref<?x16xf32>) {dim = 2 : i64}
  return
}

// -----

func.func @concat_negative_dim(%a: memref<?x8xf32>, %b: memref<?x8xf32>, %c: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op dim -3 is out of range}}
  gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x8xf32>) outs(%c : memref<?x16xf32>) {dim = -3 : i64}
  return
}

// -----

func.func @concat_rank(%a: memref<?x8xf32>, %b: memref<?x1x8xf32>, %c: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op inputs and output must agree in rank and element type}}
  gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x1x8xf32>) outs(%c : memref<?x16xf32>) {dim = 1 : i64}
  return
}

// -----

func.func @concat_element_type(%a: memref<?x8xf32>, %b: memref<?x8xbf16>, %c: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op inputs and output must agree in rank and element type}}
  gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x8xbf16>) outs(%c : memref<?x16xf32>) {dim = 1 : i64}
  return
}

// -----

func.func @concat_disagreeing_dim(%a: memref<4x8xf32>, %b: memref<5x8xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{'gcu.concat' op inputs disagree with the output on dimension 0}}
  gcu.concat ins(%a, %b : memref<4x8xf32>, memref<5x8xf32>) outs(%c : memref<4x16xf32>) {dim = 1 : i64}
  return
}

// -----

func.func @concat_output_size(%a: memref<?x8xf32>, %b: memref<?x8xf32>, %c: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.concat' op output size 32 along dim 1 is not the inputs' total 16}}
  gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x8xf32>) outs(%c : memref<?x32xf32>) {dim = -1 : i64}
  return
}

// -----

func.func @concat_single_input_size(%a: memref<4x8xbf16>, %c: memref<4x16xbf16>) {
  // expected-error @+1 {{'gcu.concat' op output size 16 along dim 1 is not the inputs' total 8}}
  gcu.concat ins(%a : memref<4x8xbf16>) outs(%c : memref<4x16xbf16>) {dim = 1 : i64}
  return
}

// -----

func.func @concat_output_size_dim0(%a: memref<4x8xf32>, %b: memref<2x8xf32>, %c: memref<8x8xf32>) {
  // expected-error @+1 {{'gcu.concat' op output size 8 along dim 0 is not the inputs' total 6}}
  gcu.concat ins(%a, %b : memref<4x8xf32>, memref<2x8xf32>) outs(%c : memref<8x8xf32>) {dim = 0 : i64}
  return
}

// -----

func.func @gather_dim(%t: memref<128x16xf32>, %i: memref<?xi64>, %o: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.gather' op dim 2 is out of range}}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi64>) outs(%o : memref<?x16xf32>) {dim = 2 : i64}
  return
}

// -----

func.func @gather_negative_dim(%t: memref<128x16xf32>, %i: memref<?xi64>, %o: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.gather' op dim -3 is out of range}}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi64>) outs(%o : memref<?x16xf32>) {dim = -3 : i64}
  return
}

// -----

func.func @gather_indices_rank(%t: memref<128x16xf32>, %i: memref<1x?xi64>, %o: memref<?x16xf32>) {
  // expected-error @+1 {{'gcu.gather' op indices must be one-dimensional}}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<1x?xi64>) outs(%o : memref<?x16xf32>) {dim = 0 : i64}
  return
}

// -----

func.func @gather_output_shape(%t: memref<128x16xf32>, %i: memref<?xi64>, %o: memref<?x8xf32>) {
  // expected-error @+1 {{'gcu.gather' op output shape [?, 8] does not match the expected [?, 16]}}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi64>) outs(%o : memref<?x8xf32>) {dim = 0 : i64}
  return
}

// -----

func.func @gather_element_type(%t: memref<128x16xf32>, %i: memref<?xi32>, %o: memref<?x16xbf16>) {
  // expected-error @+1 {{'gcu.gather' op output element type must match the input}}
  gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi32>) outs(%o : memref<?x16xbf16>) {dim = 0 : i64}
  return
}

// -----

func.func @paged_attention_cache_types(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x32x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op key and value caches must have the same type}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x32x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_value_cache_type(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xbf16>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op key and value caches must have the same type}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xbf16>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @paged_attention_block_tables_rank(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?xi64>, %o: memref<?x64xf32>) {
  // One row of block ids per sequence: a flat block table is rejected.
  // expected-error @+1 {{'gcu.paged_attention' op block tables must be two-dimensional [sequences, blocks]}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_positions_rank(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<2x?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op positions, slot mapping, query start offsets and sequence lengths must be one-dimensional}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<2x?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_attention_norm_epsilon(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %qn: memref<16xf32>, %kn: memref<16xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op attribute 'norm_epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%qn, %kn : memref<16xf32>, memref<16xf32>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, norm_epsilon = -1.0e-06 : f64}
  return
}

// -----

func.func @fused_attention_norm_element(%q: memref<?x64xf32>, %k: memref<?x32xf32>, %v: memref<?x32xf32>, %pos: memref<?xi64>, %s: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %qn: memref<16xbf16>, %kn: memref<16xbf16>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_rope_cache_attention' op q/k norm weights must have the query's element type}}
  gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %s, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) qk_norm(%qn, %kn : memref<16xbf16>, memref<16xbf16>) inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, norm_epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @all_gather_size(%x: memref<?x128xf32>, %y: memref<?x200xf32>) {
  // expected-error @+1 {{'gcu.all_gather' op output size 200 along dim 1 is not a whole number of input slices of 128}}
  gcu.all_gather ins(%x : memref<?x128xf32>) outs(%y : memref<?x200xf32>) {dim = 1 : i64}
  return
}

// -----

func.func @attention_width_overflow(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xf32>, %vc: memref<?x64x2x16xf32>, %pos: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %bt: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op query width 4611686018427387904 x 16 overflows}}
  gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %bt : memref<?x64xf32>, memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) outs(%o : memref<?x64xf32>) {num_heads = 4611686018427387904 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @fused_norm_add_norm_types(%w1: memref<64xf32>, %w2: memref<64xf32>, %x: memref<?x64xbf16>, %r: memref<?x64xf16>) {
  // expected-error @+1 {{'gcu.fused_norm_add_norm' op input and residual must have the same type}}
  gcu.fused_norm_add_norm ins(%w1, %w2 : memref<64xf32>, memref<64xf32>) inouts(%x, %r : memref<?x64xbf16>, memref<?x64xf16>) {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
  return
}

// -----

func.func @soft_cap_shape(%x: memref<?x64xf32>, %y: memref<?x32xf32>) {
  // expected-error @+1 {{'gcu.soft_cap' op output}}
  gcu.soft_cap ins(%x : memref<?x64xf32>) outs(%y : memref<?x32xf32>) {cap = 30.0 : f64}
  return
}

// -----

func.func @moe_router_ids_shape(%x: memref<?x64xf32>, %gate: memref<8x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x3xi64>) {
  // expected-error @+1 {{'gcu.moe_router' op ids shape [?, 3] does not match the expected [?, 2]}}
  gcu.moe_router ins(%x, %gate : memref<?x64xf32>, memref<8x64xf32>) outs(%w, %ids : memref<?x2xf32>, memref<?x3xi64>) {top_k = 2 : i64}
  return
}

// -----

func.func @fused_moe_down_rows(%x: memref<?x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>, %gate_up: memref<256x64xf32>, %down: memref<256x16xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_moe' op down must hold (num_experts / expert_parallel) x hidden rows}}
  gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<256x16xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
  return
}

// -----

func.func @fused_moe_expert_parallel_indivisible(%x: memref<?x64xf32>, %w: memref<?x2xf32>, %ids: memref<?x2xi64>, %gate_up: memref<256x64xf32>, %down: memref<512x16xf32>, %y: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.fused_moe' op num_experts = 8 is not divisible by expert_parallel = 3}}
  gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>) outs(%y : memref<?x64xf32>) {num_experts = 8 : i64, expert_parallel = 3 : i64}
  return
}

// -----

func.func @topk_exceeds(%p: memref<?x8xf32>, %w: memref<?x9xf32>, %ids: memref<?x9xi64>) {
  // expected-error @+1 {{'gcu.topk' op k = 9 exceeds the last dimension, 8}}
  gcu.topk ins(%p : memref<?x8xf32>) outs(%w, %ids : memref<?x9xf32>, memref<?x9xi64>) {k = 9 : i64}
  return
}

// -----

func.func @scatter_src_shape(%p: memref<?x8xf32>, %ids: memref<?x2xi64>, %w: memref<?x3xf32>) {
  // expected-error @+1 {{'gcu.scatter' op src shape [?, 3] does not match the expected [?, 2]}}
  gcu.scatter ins(%p, %ids, %w : memref<?x8xf32>, memref<?x2xi64>, memref<?x3xf32>) outs(%p : memref<?x8xf32>) {dim = 1 : i64}
  return
}

// -----

func.func @mla_kv_b_rows(%q: memref<?x96xf32>, %c: memref<?x32xf32>, %kpe: memref<?x8xf32>, %kvb: memref<96x32xf32>, %pos: memref<?xi64>, %bt: memref<?x?xi64>, %lc: memref<?x64x1x32xf32>, %rc: memref<?x64x1x8xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.mla_attention' op kv_b shape [96, 32] does not match the expected [128, 32]}}
  gcu.mla_attention ins(%q, %c, %kpe, %kvb, %pos, %pos, %pos, %pos, %bt : memref<?x96xf32>, memref<?x32xf32>, memref<?x8xf32>, memref<96x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%lc, %rc : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>) outs(%o : memref<?x64xf32>) prefill {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64}
  return
}

// -----

func.func @moe_router_f32_weights(%x: memref<?x64xbf16>, %gate: memref<8x64xbf16>, %w: memref<?x2xbf16>, %ids: memref<?x2xi64>) {
  // expected-error @+1 {{'gcu.moe_router' op route_in_f32 weights must be f32}}
  gcu.moe_router ins(%x, %gate : memref<?x64xbf16>, memref<8x64xbf16>) outs(%w, %ids : memref<?x2xbf16>, memref<?x2xi64>) {top_k = 2 : i64, route_in_f32}
  return
}

// -----

func.func @kv_cache_scales_rank() {
  // expected-error @+1 {{'gcu.kv_cache_scales' op scales must be [blocks, block_size, kv_heads] with static block_size and kv_heads}}
  %ks, %vs = gcu.kv_cache_scales {layer = 0 : i64} : memref<?x64x2x1xf32>
  return
}

// -----

func.func @quantized_cache_without_scales(%k: memref<?x32xf32>, %v: memref<?x32xf32>, %slots: memref<?xi64>, %kc: memref<?x64x2x16xi8>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op a quantized cache needs its key and value scales}}
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kc, %kc : memref<?x64x2x16xi8>, memref<?x64x2x16xi8>)
  return
}

// -----

func.func @float_cache_with_scales(%k: memref<?x32xf32>, %v: memref<?x32xf32>, %slots: memref<?xi64>, %kc: memref<?x64x2x16xf32>, %ks: memref<?x64x2xf32>) {
  // expected-error @+1 {{'gcu.reshape_and_cache' op scales are for quantized (i8 or f8E4M3FN) caches}}
  gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
      inouts(%kc, %kc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
      scales(%ks, %ks : memref<?x64x2xf32>, memref<?x64x2xf32>)
  return
}

// -----

func.func @cache_scales_shape(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xi8>, %ks: memref<?x64x4xf32>, %pos: memref<?xi64>, %blocks: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op scales shape [?, 64, 4] is not its cache's [blocks, block_size, heads] [?, 64, 2]}}
  gcu.paged_attention ins(%q, %kc, %kc, %pos, %pos, %pos, %blocks : memref<?x64xf32>,
      memref<?x64x2x16xi8>, memref<?x64x2x16xi8>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?x?xi64>) scales(%ks, %ks : memref<?x64x4xf32>, memref<?x64x4xf32>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @float_cache_of_another_type(%q: memref<?x64xf32>, %kc: memref<?x64x2x16xbf16>, %pos: memref<?xi64>, %blocks: memref<?x?xi64>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.paged_attention' op a float cache must have the activations' element type 'f32'}}
  gcu.paged_attention ins(%q, %kc, %kc, %pos, %pos, %pos, %blocks : memref<?x64xf32>,
      memref<?x64x2x16xbf16>, memref<?x64x2x16xbf16>, memref<?xi64>, memref<?xi64>,
      memref<?xi64>, memref<?x?xi64>)
      outs(%o : memref<?x64xf32>)
      {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
  return
}

// -----

func.func @mla_one_scale(%q: memref<?x96xf32>, %c: memref<?x32xf32>, %kpe: memref<?x8xf32>, %kvb: memref<128x32xf32>, %pos: memref<?xi64>, %blocks: memref<?x?xi64>, %lc: memref<?x64x1x32xi8>, %rc: memref<?x64x1x8xi8>, %ls: memref<?x64x1xf32>, %o: memref<?x64xf32>) {
  // expected-error @+1 {{'gcu.mla_attention' op a quantized cache needs its key and value scales}}
  gcu.mla_attention ins(%q, %c, %kpe, %kvb, %pos, %pos, %pos, %pos, %blocks : memref<?x96xf32>, memref<?x32xf32>, memref<?x8xf32>, memref<128x32xf32>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%lc, %rc : memref<?x64x1x32xi8>, memref<?x64x1x8xi8>) scales(%ls : memref<?x64x1xf32>) outs(%o : memref<?x64xf32>) decode {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64}
  return
}
