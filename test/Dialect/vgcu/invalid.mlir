// Every verifier diagnostic of the vgcu dialect (ops and #vgcu.shard), one case per split.
// RUN: vgcu-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// #vgcu.shard (ShardAttr::verify)
//===----------------------------------------------------------------------===//

func.func @quant_vector() {
  // expected-error @+1 {{a quantized parameter must be a [rows, cols] matrix, got [64]}}
  %0 = vgcu.param "w" quant(#vgcu.quant<codes = uint8>) : tensor<64xf32>
  return
}

// -----

func.func @quant_computed() {
  // expected-error @+1 {{a computed parameter cannot be stored quantized}}
  %0 = vgcu.param "w" computed_by @fold.w quant(#vgcu.quant<codes = uint8>) : tensor<64x64xf32>
  return
}

// -----

func.func @quant_fp8_zero_point() {
  // expected-error @+1 {{fp8_e4m3 codes have no zero points or act-order groups}}
  %0 = vgcu.param "w" quant(#vgcu.quant<codes = fp8_e4m3, zero_point = true>) : tensor<64x64xf32>
  return
}

// -----

func.func @quant_act_order_without_groups() {
  // expected-error @+1 {{act_order needs groups of one row by block_cols columns}}
  %0 = vgcu.param "w" quant(#vgcu.quant<codes = uint4, zero_point = true, act_order = true>) : tensor<64x64xf32>
  return
}

// -----

func.func @quant_negative_block() {
  // expected-error @+1 {{quantization blocks must be non-negative (0: the whole dimension), got -1 x 0}}
  %0 = vgcu.param "w" quant(#vgcu.quant<codes = uint4, block_rows = -1>) : tensor<64x64xf32>
  return
}

// -----

func.func @shard_negative_dim() {
  // expected-error @+1 {{shard dim must be non-negative, got -1}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = -1, tp = 2, segments = [64], units = [64]>) : tensor<32xf32>
  return
}

// -----

func.func @shard_zero_ep() {
  // expected-error @+1 {{shard ep must be at least 1, got 0}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [64], units = [64], ep = 0>) : tensor<64xf32>
  return
}

// -----

func.func @shard_padded_experts() {
  // expected-error @+1 {{an expert-parallel shard has no padding}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [64], units = [64], valid = 60, ep = 2>) : tensor<64xf32>
  return
}

// -----

func.func @shard_unknown_key() {
  // expected-error @+1 {{expected 'valid', 'ep' or 'ep_dim', got 'experts'}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [64], units = [64], experts = 2>) : tensor<64xf32>
  return
}

// -----

func.func @shard_ep_dim_out_of_range() {
  // expected-error @+1 {{shard ep_dim 2 is out of range for rank 2}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 1, tp = 1, segments = [16], units = [16], ep = 2, ep_dim = 2>) : tensor<64x16xf32>
  return
}

// -----

func.func @shard_zero_tp() {
  // expected-error @+1 {{shard tp must be at least 1, got 0}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 0, segments = [64], units = [64]>) : tensor<64xf32>
  return
}

// -----

func.func @shard_units_count_mismatch() {
  // expected-error @+1 {{shard needs one unit count per segment, got 3 segments and 2 unit counts}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2, segments = [64, 32, 32], units = [4, 2]>) : tensor<64x64xf32>
  return
}

// -----

// An empty segment list cannot be written: the attribute parser needs at least one integer.
func.func @shard_empty_segments() {
  // expected-error @+2 {{expected integer value}}
  // expected-error @+1 {{failed to parse Vgcu_ShardAttr parameter 'segments'}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2, segments = [], units = []>) : tensor<64xf32>
  return
}

// -----

func.func @shard_segment_not_divisible() {
  // expected-error @+1 {{shard segment of size 100 cannot be made of 3 equal units}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [100], units = [3]>) : tensor<100xf32>
  return
}

// -----

func.func @shard_zero_units() {
  // expected-error @+1 {{shard segment of size 64 cannot be made of 0 equal units}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [64], units = [0]>) : tensor<64xf32>
  return
}

// -----

func.func @shard_non_positive_segment() {
  // expected-error @+1 {{shard segment of size 0 cannot be made of 1 equal units}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 1, segments = [0], units = [1]>) : tensor<64xf32>
  return
}

// -----

func.func @shard_units_not_divisible_by_tp() {
  // expected-error @+1 {{shard segment of 6 units does not divide among 4 ranks}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 4, segments = [96], units = [6]>) : tensor<16xf32>
  return
}

// -----

func.func @shard_uneven_replication() {
  // expected-error @+1 {{shard segment of 3 units cannot be replicated evenly over 4 ranks}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 4, segments = [48], units = [3]>) : tensor<16xf32>
  return
}

// -----

func.func @shard_valid_too_large() {
  // expected-error @+1 {{shard valid size 300 outside [0, 256]}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2, segments = [256], units = [256], valid = 300>) : tensor<128x64xf32>
  return
}

// -----

func.func @shard_valid_negative() {
  // expected-error @+1 {{shard valid size -1 outside [0, 256]}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2, segments = [256], units = [256], valid = -1>) : tensor<128x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.param
//===----------------------------------------------------------------------===//

func.func @param_empty_name() {
  // expected-error @+1 {{'vgcu.param' op name must not be empty}}
  %0 = vgcu.param "" : tensor<64xf32>
  return
}

// -----

func.func @param_dynamic_shape() {
  // expected-error @+1 {{'vgcu.param' op shape must be static, got [?, 64]}}
  %0 = vgcu.param "model.embed_tokens.weight" : tensor<?x64xf32>
  return
}

// -----

func.func @param_shard_dim_out_of_range() {
  // expected-error @+1 {{'vgcu.param' op shard dim 2 is out of range for rank 2}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 2, tp = 2, segments = [64], units = [64]>) : tensor<64x64xf32>
  return
}

// -----

func.func @param_shard_local_size_mismatch() {
  // expected-error @+1 {{'vgcu.param' op shard gives a local size of 64 along dim 0 but the result has 128}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2, segments = [64, 32, 32], units = [4, 2, 2]>) : tensor<128x64xf32>
  return
}

// -----

func.func @param_shard_replicated_local_size_mismatch() {
  // 2 KV heads of 16 rows over 4 ranks: every rank holds one replicated head (16 rows).
  // expected-error @+1 {{'vgcu.param' op shard gives a local size of 16 along dim 0 but the result has 8}}
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 4, segments = [32], units = [2]>) : tensor<8x64xf32>
  return
}

// -----

func.func @param_integer_type() {
  // expected-error @+1 {{'vgcu.param' op result #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<64xi64>'}}
  %0 = vgcu.param "w" : tensor<64xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.linear
//===----------------------------------------------------------------------===//

func.func @linear_weight_rank(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op weight must be [out_features, in_features], got rank 1}}
  %0 = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op input must have at least one dimension}}
  %0 = vgcu.linear %x, %w : tensor<f32>, tensor<128x64xf32> -> tensor<128xf32>
  return
}

// -----

func.func @linear_in_features(%x: tensor<?x32xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op input has 32 features but the weight expects 64}}
  %0 = vgcu.linear %x, %w : tensor<?x32xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op result shape [?, 64] does not match the expected [?, 128]}}
  %0 = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_result_rank(%x: tensor<2x?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op result shape [?, 128] does not match the expected [2, ?, 128]}}
  %0 = vgcu.linear %x, %w : tensor<2x?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_weight_element_type(%x: tensor<?x64xf32>, %w: tensor<128x64xbf16>) {
  // expected-error @+1 {{'vgcu.linear' op element types of input, weight and result must agree}}
  %0 = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xbf16> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<?x64xf16>, %w: tensor<128x64xf16>) {
  // expected-error @+1 {{'vgcu.linear' op element types of input, weight and result must agree}}
  %0 = vgcu.linear %x, %w : tensor<?x64xf16>, tensor<128x64xf16> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_bias_length(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op bias shape [64] does not match out_features 128}}
  %0 = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<1x128xf32>) {
  // expected-error @+1 {{'vgcu.linear' op bias shape [1, 128] does not match out_features 128}}
  %0 = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<1x128xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_bias_element_type(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>, %b: tensor<128xf16>) {
  // expected-error @+1 {{'vgcu.linear' op bias element type must match the input element type}}
  %0 = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf16> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_modules_without_sizes(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op packed_modules and packed_sizes must be given together}}
  %0 = vgcu.linear %x, %w {packed_modules = ["gate_proj", "up_proj"]} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_sizes_without_modules(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op packed_modules and packed_sizes must be given together}}
  %0 = vgcu.linear %x, %w {packed_sizes = array<i64: 64, 64>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_packed_count_mismatch(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op has 3 packed modules but 2 packed sizes}}
  %0 = vgcu.linear %x, %w {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 64>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_packed_size_not_positive(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op packed sizes must be positive}}
  %0 = vgcu.linear %x, %w {packed_modules = ["gate_proj", "up_proj"], packed_sizes = array<i64: 128, 0>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @linear_packed_sizes_sum(%x: tensor<?x64xf32>, %w: tensor<128x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op packed sizes add up to 96 but out_features is 128}}
  %0 = vgcu.linear %x, %w {packed_modules = ["q_proj", "k_proj", "v_proj"], packed_sizes = array<i64: 64, 16, 16>} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.embedding
//===----------------------------------------------------------------------===//

func.func @embedding_table_rank(%ids: tensor<?xi64>, %t: tensor<256xf32>) {
  // expected-error @+1 {{'vgcu.embedding' op table must be [vocab, hidden], got rank 1}}
  %0 = vgcu.embedding %ids, %t : tensor<?xi64>, tensor<256xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @embedding_result_shape(%ids: tensor<?xi64>, %t: tensor<256x64xf32>) {
  // expected-error @+1 {{'vgcu.embedding' op result shape [?, 32] does not match the expected [?, 64]}}
  %0 = vgcu.embedding %ids, %t : tensor<?xi64>, tensor<256x64xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @embedding_result_rank(%ids: tensor<2x?xi64>, %t: tensor<256x64xf32>) {
  // expected-error @+1 {{'vgcu.embedding' op result shape [?, 64] does not match the expected [2, ?, 64]}}
  %0 = vgcu.embedding %ids, %t : tensor<2x?xi64>, tensor<256x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @embedding_element_type(%ids: tensor<?xi64>, %t: tensor<256x64xbf16>) {
  // expected-error @+1 {{'vgcu.embedding' op result element type must match the table element type}}
  %0 = vgcu.embedding %ids, %t : tensor<?xi64>, tensor<256x64xbf16> -> tensor<?x64xf32>
  return
}

// -----

func.func @embedding_float_ids(%ids: tensor<?xf32>, %t: tensor<256x64xf32>) {
  // expected-error @+1 {{'vgcu.embedding' op operand #0 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values, but got 'tensor<?xf32>'}}
  %0 = vgcu.embedding %ids, %t : tensor<?xf32>, tensor<256x64xf32> -> tensor<?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

func.func @rms_norm_scalar_input(%x: tensor<f32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op input must have at least one dimension}}
  %0 = vgcu.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<f32>, tensor<64xf32>
  return
}

// -----

func.func @rms_norm_weight_rank(%x: tensor<?x64xf32>, %w: tensor<1x64xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op weight must be one-dimensional, got rank 2}}
  %0 = vgcu.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<1x64xf32>
  return
}

// -----

func.func @rms_norm_weight_length(%x: tensor<?x64xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op weight length 32 does not match the last input dimension 64}}
  %0 = vgcu.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<32xf32>
  return
}

// -----

func.func @rms_norm_weight_element_type(%x: tensor<?x64xf32>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'vgcu.rms_norm' op weight element type 'bf16' does not match the input element type 'f32'}}
  %0 = vgcu.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xbf16>
  return
}

// -----

func.func @rms_norm_zero_epsilon(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.rms_norm %x, %w {epsilon = 0.0 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @rms_norm_negative_epsilon(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.rms_norm %x, %w {epsilon = -1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

// The custom form takes the result type from the input, so only the generic form can differ.
func.func @rms_norm_result_type(%x: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.rms_norm' op failed to verify that all of {input, result} have same type}}
  %0 = "vgcu.rms_norm"(%x, %w) <{epsilon = 1.0e-05 : f64}> : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf16>
  return
}

// -----

func.func @add_rms_norm_weight_length(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>, %w: tensor<128xf32>) {
  // expected-error @+1 {{'vgcu.add_rms_norm' op weight length 128 does not match the last input dimension 64}}
  %0:2 = vgcu.add_rms_norm %x, %r, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<128xf32>
  return
}

// -----

func.func @add_rms_norm_zero_epsilon(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.add_rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0:2 = vgcu.add_rms_norm %x, %r, %w {epsilon = 0.0 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

// In the custom form the residual's type is the input's, so a mismatch is a parse error...
// expected-note @+1 {{prior use here}}
func.func @add_rms_norm_residual_custom(%x: tensor<?x64xf32>, %r: tensor<?x64xbf16>, %w: tensor<64xf32>) {
  // expected-error @+1 {{use of value '%r' expects different type than prior uses: 'tensor<?x64xf32>' vs 'tensor<?x64xbf16>'}}
  %0:2 = vgcu.add_rms_norm %x, %r, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

// ...and in the generic form AllTypesMatch rejects it.
func.func @add_rms_norm_residual_generic(%x: tensor<?x64xf32>, %r: tensor<?x32xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.add_rms_norm' op failed to verify that all of {input, residual, normed, sum} have same type}}
  %0:2 = "vgcu.add_rms_norm"(%x, %r, %w) <{epsilon = 1.0e-05 : f64}> : (tensor<?x64xf32>, tensor<?x32xf32>, tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>)
  return
}

// -----

// (An f32 weight over an f16 or bf16 input is valid: it scales before the rounding.)
func.func @all_reduce_add_rms_norm_weight_element_type(%x: tensor<?x64xf16>, %r: tensor<?x64xf16>, %w: tensor<64xbf16>) {
  // expected-error @+1 {{'vgcu.all_reduce_add_rms_norm' op weight element type 'bf16' does not match the input element type 'f16'}}
  %0:2 = vgcu.all_reduce_add_rms_norm %x, %r, %w {epsilon = 1.0e-05 : f64} : tensor<?x64xf16>, tensor<64xbf16>
  return
}

// -----

func.func @all_reduce_add_rms_norm_zero_epsilon(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.all_reduce_add_rms_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0:2 = vgcu.all_reduce_add_rms_norm %x, %r, %w {epsilon = 0.0 : f64} : tensor<?x64xf32>, tensor<64xf32>
  return
}

// -----

func.func @all_reduce_add_rms_norm_residual_generic(%x: tensor<?x64xf32>, %r: tensor<?x64xf16>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.all_reduce_add_rms_norm' op failed to verify that all of {input, residual, normed, sum} have same type}}
  %0:2 = "vgcu.all_reduce_add_rms_norm"(%x, %r, %w) <{epsilon = 1.0e-05 : f64}> : (tensor<?x64xf32>, tensor<?x64xf16>, tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>)
  return
}

// -----

func.func @layer_norm_weight_length(%x: tensor<?x768xf32>, %w: tensor<64xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vgcu.layer_norm' op weight length 64 does not match the last input dimension 768}}
  %0 = vgcu.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x768xf32>, tensor<64xf32>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_bias_rank(%x: tensor<?x768xf32>, %w: tensor<768xf32>, %b: tensor<1x768xf32>) {
  // expected-error @+1 {{'vgcu.layer_norm' op bias must be one-dimensional, got rank 2}}
  %0 = vgcu.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x768xf32>, tensor<768xf32>, tensor<1x768xf32>
  return
}

// -----

func.func @add_layer_norm_bias_length(%x: tensor<?x768xf32>, %r: tensor<?x768xf32>, %w: tensor<768xf32>, %b: tensor<384xf32>) {
  // expected-error @+1 {{'vgcu.add_layer_norm' op bias length 384 does not match the last input dimension 768}}
  %0:2 = vgcu.add_layer_norm %x, %r, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x768xf32>, tensor<768xf32>, tensor<384xf32>
  return
}

// -----

func.func @all_reduce_add_layer_norm_epsilon(%x: tensor<?x768xf32>, %r: tensor<?x768xf32>, %w: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vgcu.all_reduce_add_layer_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0:2 = vgcu.all_reduce_add_layer_norm %x, %r, %w, %b {epsilon = 0.0 : f64} : tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_bias_length(%x: tensor<?x768xf32>, %w: tensor<768xf32>, %b: tensor<384xf32>) {
  // expected-error @+1 {{'vgcu.layer_norm' op bias length 384 does not match the last input dimension 768}}
  %0 = vgcu.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x768xf32>, tensor<768xf32>, tensor<384xf32>
  return
}

// -----

func.func @layer_norm_bias_element_type(%x: tensor<?x768xf16>, %w: tensor<768xf16>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vgcu.layer_norm' op bias element type 'f32' does not match the input element type 'f16'}}
  %0 = vgcu.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x768xf16>, tensor<768xf16>, tensor<768xf32>
  return
}

// -----

func.func @layer_norm_zero_epsilon(%x: tensor<?x768xf32>, %w: tensor<768xf32>, %b: tensor<768xf32>) {
  // expected-error @+1 {{'vgcu.layer_norm' op attribute 'epsilon' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.layer_norm %x, %w, %b {epsilon = 0.0 : f64} : tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #vgcu.rope (RopeScalingAttr::verify, verifyRopeScaling)
//===----------------------------------------------------------------------===//

func.func @rope_negative_factor(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{linear rope scaling needs a positive factor, got -2.000000e+00}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = linear, factor = -2.0>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_dynamic_without_switch(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{dynamic rope scaling needs a positive original_max_positions}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = dynamic, factor = 2.0>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_llama3_bands(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, got 4.000000e+00 and 1.000000e+00}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = llama3, factor = 8.0, low_freq_factor = 4.0, high_freq_factor = 1.0, original_max_positions = 8192>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_longrope_without_factors(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{longrope rope scaling needs short_factor and long_factor of one length}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = longrope, original_max_positions = 64, short_factor = [1.0]>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_factors_on_linear(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{short_factor and long_factor belong to longrope, not linear}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = linear, factor = 2.0, short_factor = [1.0]>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_longrope_count(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op longrope factors come one per frequency: 8 for rotary_dim 16, got 2}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = longrope, original_max_positions = 64, short_factor = [1.0, 1.0], long_factor = [2.0, 2.0]>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_precomputed_without_frequencies(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{precomputed rope scaling needs its frequencies}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = precomputed>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_precomputed_count(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op precomputed rope frequencies come one per channel pair: }}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = precomputed, frequencies = [1.0, 0.5]>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rope_unknown_type(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+2 {{expected ::vgcu::RopeType to be one of: linear, dynamic, yarn, longrope, llama3, precomputed}}
  // expected-error @+1 {{failed to parse Vgcu_RopeScalingAttr parameter 'type'}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, rope_scaling = #vgcu.rope<type = ntk>} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.rotary_embedding
//===----------------------------------------------------------------------===//

func.func @rotary_positions_rank(%pos: tensor<1x?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op positions must be one-dimensional}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<1x?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_head_dim(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op attribute 'head_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 0 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_negative_head_dim(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op attribute 'head_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = -16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_dim_odd(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op rotary_dim 15 must be even and within (0, 16]}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 15 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_dim_too_big(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op rotary_dim 32 must be even and within (0, 16]}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k gptj {head_dim = 16 : i64, rotary_dim = 32 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_dim_zero(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op attribute 'rotary_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 0 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_dim_negative(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op attribute 'rotary_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = -16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_theta(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op attribute 'theta' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 0.0 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_query_rank(%pos: tensor<?xi64>, %q: tensor<?x4x16xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op query must be [tokens, heads x head_dim]}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x4x16xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_key_rank(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op key must be [tokens, heads x head_dim]}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?xf32>
  return
}

// -----

func.func @rotary_query_width(%pos: tensor<?xi64>, %q: tensor<?x60xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op query width 60 is not a multiple of head_dim 16}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x60xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_key_width(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x24xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op key width 24 is not a multiple of head_dim 16}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x24xf32>
  return
}

// -----

func.func @rotary_query_tokens(%pos: tensor<4xi64>, %q: tensor<8x64xf32>, %k: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op query and positions disagree on the number of tokens}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<4xi64>, tensor<8x64xf32>, tensor<?x32xf32>
  return
}

// -----

func.func @rotary_key_tokens(%pos: tensor<4xi64>, %q: tensor<?x64xf32>, %k: tensor<2x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op key and positions disagree on the number of tokens}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<4xi64>, tensor<?x64xf32>, tensor<2x32xf32>
  return
}

// -----

func.func @rotary_element_types(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xbf16>) {
  // expected-error @+1 {{'vgcu.rotary_embedding' op query and key element types must agree}}
  %0:2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.attention
//===----------------------------------------------------------------------===//

func.func @attention_num_heads(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'num_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 0 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_num_kv_heads(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'num_kv_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = -2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_negative_num_heads(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'num_heads' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = -4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'head_dim' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 0 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_heads_divisibility(%q: tensor<?x64xf32>, %k: tensor<?x48xf32>, %v: tensor<?x48xf32>) {
  // expected-error @+1 {{'vgcu.attention' op num_heads 4 is not divisible by num_kv_heads 3}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 3 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x48xf32>, tensor<?x48xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_scale(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'scale' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = -0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_sliding_window(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, sliding_window = 0 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_negative_sliding_window(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'sliding_window' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, sliding_window = -1 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_query_rank(%q: tensor<?x4x16xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op query must be [tokens, heads x head_dim]}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x4x16xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x4x16xf32>
  return
}

// -----

func.func @attention_query_width(%q: tensor<?x32xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op query width 32 must equal 4 heads x head_dim 16}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @attention_key_width(%q: tensor<?x64xf32>, %k: tensor<?x64xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op key width 64 must equal 2 heads x head_dim 16}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_value_width(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x16xf32>) {
  // expected-error @+1 {{'vgcu.attention' op value width 16 must equal 2 heads x head_dim 16}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x16xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_value_rank(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x2x16xf32>) {
  // expected-error @+1 {{'vgcu.attention' op value must be [tokens, heads x head_dim]}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x2x16xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_element_types(%q: tensor<?x64xf32>, %k: tensor<?x32xbf16>, %v: tensor<?x32xbf16>) {
  // expected-error @+1 {{'vgcu.attention' op query, key and value element types must agree}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xbf16>, tensor<?x32xbf16> -> tensor<?x64xf32>
  return
}

// -----

func.func @attention_result_type(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op result type must equal the query type}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Gated activations and collectives
//===----------------------------------------------------------------------===//

func.func @silu_and_mul_rank(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{'vgcu.silu_and_mul' op input and result must have the same rank of at least one}}
  %0 = vgcu.silu_and_mul %x : tensor<?x256xf32> -> tensor<128xf32>
  return
}

// -----

func.func @silu_and_mul_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{'vgcu.silu_and_mul' op input and result must have the same rank of at least one}}
  %0 = vgcu.silu_and_mul %x : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @silu_and_mul_odd_width(%x: tensor<?x255xf32>) {
  // expected-error @+1 {{'vgcu.silu_and_mul' op last input dimension 255 must be even}}
  %0 = vgcu.silu_and_mul %x : tensor<?x255xf32> -> tensor<?x127xf32>
  return
}

// -----

func.func @silu_and_mul_result_shape(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{'vgcu.silu_and_mul' op result shape [?, 256] must be the input shape with the last dimension halved, [?, 128]}}
  %0 = vgcu.silu_and_mul %x : tensor<?x256xf32> -> tensor<?x256xf32>
  return
}

// -----

func.func @silu_and_mul_element_type(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{'vgcu.silu_and_mul' op result element type must match the input}}
  %0 = vgcu.silu_and_mul %x : tensor<?x256xf32> -> tensor<?x128xbf16>
  return
}

// -----

func.func @gelu_and_mul_rank(%x: tensor<?x256xf32>) {
  // expected-error @+1 {{'vgcu.gelu_and_mul' op input and result must have the same rank of at least one}}
  %0 = vgcu.gelu_and_mul %x none : tensor<?x256xf32> -> tensor<1x?x128xf32>
  return
}

// -----

func.func @gelu_and_mul_odd_width(%x: tensor<?x63xf16>) {
  // expected-error @+1 {{'vgcu.gelu_and_mul' op last input dimension 63 must be even}}
  %0 = vgcu.gelu_and_mul %x tanh : tensor<?x63xf16> -> tensor<?x31xf16>
  return
}

// -----

func.func @gelu_and_mul_result_shape(%x: tensor<4x256xf32>) {
  // expected-error @+1 {{'vgcu.gelu_and_mul' op result shape [8, 128] must be the input shape with the last dimension halved, [4, 128]}}
  %0 = vgcu.gelu_and_mul %x none : tensor<4x256xf32> -> tensor<8x128xf32>
  return
}

// -----

func.func @gelu_and_mul_element_type(%x: tensor<?x256xbf16>) {
  // expected-error @+1 {{'vgcu.gelu_and_mul' op result element type must match the input}}
  %0 = vgcu.gelu_and_mul %x tanh : tensor<?x256xbf16> -> tensor<?x128xf32>
  return
}

// -----

func.func @all_reduce_result_type(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.all_reduce' op requires the same type for all operands and results}}
  %0 = "vgcu.all_reduce"(%x) : (tensor<?x64xf32>) -> tensor<?x64xf16>
  return
}

// -----

func.func @all_gather_world_size(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op attribute 'world_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.all_gather %x {dim = 1 : i64, world_size = 0 : i64} : tensor<?x128xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @all_gather_negative_world_size(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op attribute 'world_size' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.all_gather %x {dim = 1 : i64, world_size = -1 : i64} : tensor<?x128xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @all_gather_dim(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op dim 2 is out of range for rank 2}}
  %0 = vgcu.all_gather %x {dim = 2 : i64, world_size = 2 : i64} : tensor<?x128xf32> -> tensor<?x256xf32>
  return
}

// -----

func.func @all_gather_negative_dim(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op dim -3 is out of range for rank 2}}
  %0 = vgcu.all_gather %x {dim = -3 : i64, world_size = 2 : i64} : tensor<?x128xf32> -> tensor<?x256xf32>
  return
}

// -----

func.func @all_gather_result_shape(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op result shape [?, 128] must be the input gathered along dim 1, [?, 256]}}
  %0 = vgcu.all_gather %x {dim = -1 : i64, world_size = 2 : i64} : tensor<?x128xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @all_gather_element_type(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.all_gather' op result element type must match the input}}
  %0 = vgcu.all_gather %x {dim = 1 : i64, world_size = 2 : i64} : tensor<?x128xf32> -> tensor<?x256xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.constant
//===----------------------------------------------------------------------===//

// The custom form takes the result type from the value. In the generic form AllTypesMatch
// rejects a mismatch before ConstantOp::verify runs, so its "value type ... does not match
// the result type" message cannot be reached.
func.func @constant_type_mismatch() {
  // expected-error @+1 {{'vgcu.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "vgcu.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  return
}

// -----

func.func @constant_element_type_mismatch() {
  // expected-error @+1 {{'vgcu.constant' op failed to verify that all of {value, result} have same type}}
  %0 = "vgcu.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<2xbf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise binary ops, compare, where, cast
//===----------------------------------------------------------------------===//

func.func @add_element_types(%a: tensor<?x64xf32>, %b: tensor<?x64xbf16>) {
  // expected-error @+1 {{'vgcu.add' op operand and result element types must agree}}
  %0 = vgcu.add %a, %b : (tensor<?x64xf32>, tensor<?x64xbf16>) -> tensor<?x64xf32>
  return
}

// -----

func.func @sub_result_element_type(%a: tensor<?x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.sub' op operand and result element types must agree}}
  %0 = vgcu.sub %a, %b : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf16>
  return
}

// -----

func.func @mul_no_broadcast(%a: tensor<?x64xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'vgcu.mul' op operand shapes [?, 64] and [32] do not broadcast}}
  %0 = vgcu.mul %a, %b : (tensor<?x64xf32>, tensor<32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @div_result_shape(%a: tensor<?x1xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.div' op result shape [?, 1] does not match the broadcast shape [?, 64]}}
  %0 = vgcu.div %a, %b : (tensor<?x1xf32>, tensor<64xf32>) -> tensor<?x1xf32>
  return
}

// -----

func.func @pow_result_rank(%a: tensor<?x64xf32>, %b: tensor<f32>) {
  // expected-error @+1 {{'vgcu.pow' op result shape [64] does not match the broadcast shape [?, 64]}}
  %0 = vgcu.pow %a, %b : (tensor<?x64xf32>, tensor<f32>) -> tensor<64xf32>
  return
}

// -----

func.func @maximum_no_broadcast(%a: tensor<4x?xi64>, %b: tensor<3x1xi64>) {
  // expected-error @+1 {{'vgcu.maximum' op operand shapes [4, ?] and [3, 1] do not broadcast}}
  %0 = vgcu.maximum %a, %b : (tensor<4x?xi64>, tensor<3x1xi64>) -> tensor<4x?xi64>
  return
}

// -----

func.func @or_not_boolean(%a: tensor<?x?xi64>, %b: tensor<?x?xi64>) {
  // expected-error @+1 {{'vgcu.or' op operands must be boolean (i1) masks}}
  %0 = vgcu.or %a, %b : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi64>
  return
}

// -----

func.func @or_element_types(%a: tensor<?x?xi1>, %b: tensor<?x?xi64>) {
  // expected-error @+1 {{'vgcu.or' op operand and result element types must agree}}
  %0 = vgcu.or %a, %b : (tensor<?x?xi1>, tensor<?x?xi64>) -> tensor<?x?xi1>
  return
}

// -----

func.func @unary_result_type(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.exp' op requires the same type for all operands and results}}
  %0 = "vgcu.exp"(%x) : (tensor<?x64xf32>) -> tensor<?x64xbf16>
  return
}

// -----

func.func @compare_element_types(%a: tensor<1x?xi64>, %b: tensor<?x1xi32>) {
  // expected-error @+1 {{'vgcu.compare' op operand element types must agree}}
  %0 = vgcu.compare gt, %a, %b : (tensor<1x?xi64>, tensor<?x1xi32>) -> tensor<?x?xi1>
  return
}

// -----

func.func @compare_no_broadcast(%a: tensor<?x64xf32>, %b: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.compare' op operand shapes [?, 64] and [?, 32] do not broadcast}}
  %0 = vgcu.compare eq, %a, %b : (tensor<?x64xf32>, tensor<?x32xf32>) -> tensor<?x64xi1>
  return
}

// -----

func.func @compare_result_shape(%a: tensor<1x?xi64>, %b: tensor<?x1xi64>) {
  // expected-error @+1 {{'vgcu.compare' op result shape [?] does not match the broadcast shape [?, ?]}}
  %0 = vgcu.compare lt, %a, %b : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?xi1>
  return
}

// -----

func.func @compare_result_not_boolean(%a: tensor<?xi64>, %b: tensor<?xi64>) {
  // expected-error @+1 {{'vgcu.compare' op result #0 must be ranked tensor of 1-bit signless integer values, but got 'tensor<?xi64>'}}
  %0 = vgcu.compare ge, %a, %b : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi64>
  return
}

// -----

func.func @compare_unknown_predicate(%a: tensor<?xi64>, %b: tensor<?xi64>) {
  // expected-error @+2 {{custom op 'vgcu.compare' expected one of [eq, ne, lt, le, gt, ge] for elementwise comparison, got: eqq}}
  // expected-error @+1 {{custom op 'vgcu.compare' invalid value for property predicate, expected elementwise comparison}}
  %0 = vgcu.compare eqq, %a, %b : (tensor<?xi64>, tensor<?xi64>) -> tensor<?xi1>
  return
}

// -----

func.func @where_value_element_types(%m: tensor<?x?xi1>, %a: tensor<f32>, %b: tensor<4x?x?xbf16>) {
  // expected-error @+1 {{'vgcu.where' op value and result element types must agree}}
  %0 = vgcu.where %m, %a, %b : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xbf16>) -> tensor<4x?x?xbf16>
  return
}

// -----

func.func @where_result_element_type(%m: tensor<?x?xi1>, %a: tensor<f32>, %b: tensor<4x?x?xf32>) {
  // expected-error @+1 {{'vgcu.where' op value and result element types must agree}}
  %0 = vgcu.where %m, %a, %b : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf16>
  return
}

// -----

func.func @where_no_broadcast(%m: tensor<8x8xi1>, %a: tensor<f32>, %b: tensor<4x8x7xf32>) {
  // expected-error @+1 {{'vgcu.where' op operand shapes [8, 8] and [4, 8, 7] do not broadcast}}
  %0 = vgcu.where %m, %a, %b : (tensor<8x8xi1>, tensor<f32>, tensor<4x8x7xf32>) -> tensor<4x8x8xf32>
  return
}

// -----

func.func @where_result_shape(%m: tensor<?x?xi1>, %a: tensor<f32>, %b: tensor<4x?x?xf32>) {
  // expected-error @+1 {{'vgcu.where' op result shape [?, ?] does not match the broadcast shape [4, ?, ?]}}
  %0 = vgcu.where %m, %a, %b : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<?x?xf32>
  return
}

// -----

func.func @where_condition_not_boolean(%m: tensor<?x?xf32>, %a: tensor<f32>, %b: tensor<?x?xf32>) {
  // expected-error @+1 {{'vgcu.where' op operand #0 must be ranked tensor of 1-bit signless integer values, but got 'tensor<?x?xf32>'}}
  %0 = vgcu.where %m, %a, %b : (tensor<?x?xf32>, tensor<f32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  return
}

// -----

func.func @cast_shape(%x: tensor<?x64xbf16>) {
  // expected-error @+1 {{'vgcu.cast' op input and result shapes must agree}}
  %0 = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x32xf32>
  return
}

// -----

func.func @cast_rank(%x: tensor<?x64xbf16>) {
  // expected-error @+1 {{'vgcu.cast' op input and result shapes must agree}}
  %0 = vgcu.cast %x : tensor<?x64xbf16> to tensor<1x?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.matmul
//===----------------------------------------------------------------------===//

func.func @matmul_rank(%a: tensor<64xf32>, %b: tensor<64x32xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op operands must have rank of at least 2}}
  %0 = vgcu.matmul %a, %b : tensor<64xf32>, tensor<64x32xf32> -> tensor<32xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<4x?x16xf32>, %b: tensor<4x32x?xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op contraction dimensions 16 and 32 disagree}}
  %0 = vgcu.matmul %a, %b : tensor<4x?x16xf32>, tensor<4x32x?xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<4x?x16xf32>, %b: tensor<2x16x?xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op batch dimensions do not broadcast}}
  %0 = vgcu.matmul %a, %b : tensor<4x?x16xf32>, tensor<2x16x?xf32> -> tensor<4x?x?xf32>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<4x?x16xf32>, %b: tensor<16x8xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op result shape [4, ?, 16] does not match [4, ?, 8]}}
  %0 = vgcu.matmul %a, %b : tensor<4x?x16xf32>, tensor<16x8xf32> -> tensor<4x?x16xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<?x64xbf16>, %b: tensor<64x32xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op operand and result element types must agree}}
  %0 = vgcu.matmul %a, %b : tensor<?x64xbf16>, tensor<64x32xf32> -> tensor<?x32xbf16>
  return
}

// -----

func.func @matmul_result_element_type(%a: tensor<?x64xf32>, %b: tensor<64x32xf32>) {
  // expected-error @+1 {{'vgcu.matmul' op operand and result element types must agree}}
  %0 = vgcu.matmul %a, %b : tensor<?x64xf32>, tensor<64x32xf32> -> tensor<?x32xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

func.func @mean_dim_range(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.mean' op dim 2 is out of range for rank 2}}
  %0 = vgcu.mean %x {dims = array<i64: 2>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  return
}

// -----

func.func @sum_negative_dim_range(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.sum' op dim -3 is out of range for rank 2}}
  %0 = vgcu.sum %x {dims = array<i64: -3>} : tensor<?x64xf32> -> tensor<?xf32>
  return
}

// -----

func.func @mean_duplicate_dim(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.mean' op dim -1 is reduced twice}}
  %0 = vgcu.mean %x {dims = array<i64: 1, -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
  return
}

// -----

func.func @sum_no_dims(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.sum' op needs at least one dimension to reduce}}
  %0 = vgcu.sum %x {dims = array<i64>} : tensor<?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @mean_result_shape(%x: tensor<?x64xf32>) {
  // keepdim is missing, so the reduced dimension is dropped.
  // expected-error @+1 {{'vgcu.mean' op result shape [?, 1] does not match [?]}}
  %0 = vgcu.mean %x {dims = array<i64: -1>} : tensor<?x64xf32> -> tensor<?x1xf32>
  return
}

// -----

func.func @sum_result_shape_keepdim(%x: tensor<4x?x?xf32>) {
  // expected-error @+1 {{'vgcu.sum' op result shape [?] does not match [1, ?, 1]}}
  %0 = vgcu.sum %x {dims = array<i64: 0, 2>, keepdim} : tensor<4x?x?xf32> -> tensor<?xf32>
  return
}

// -----

func.func @mean_element_type(%x: tensor<?x64xbf16>) {
  // expected-error @+1 {{'vgcu.mean' op result element type must match the input}}
  %0 = vgcu.mean %x {dims = array<i64: -1>, keepdim} : tensor<?x64xbf16> -> tensor<?x1xf32>
  return
}

// -----

func.func @sum_element_type(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.sum' op result element type must match the input}}
  %0 = vgcu.sum %x {dims = array<i64: 1>} : tensor<?x64xf32> -> tensor<?xf16>
  return
}

// -----

func.func @softmax_dim(%x: tensor<4x?x?xf32>) {
  // expected-error @+1 {{'vgcu.softmax' op dim 3 is out of range for rank 3}}
  %0 = vgcu.softmax %x {dim = 3 : i64} : tensor<4x?x?xf32>
  return
}

// -----

func.func @softmax_negative_dim(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.softmax' op dim -3 is out of range for rank 2}}
  %0 = vgcu.softmax %x {dim = -3 : i64} : tensor<?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

func.func @transpose_permutation_size(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'vgcu.transpose' op permutation has 2 entries for rank 3}}
  %0 = vgcu.transpose %x {permutation = array<i64: 1, 0>} : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
  return
}

// -----

func.func @transpose_permutation_duplicate(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'vgcu.transpose' op permutation is not a permutation of [0, 3)}}
  %0 = vgcu.transpose %x {permutation = array<i64: 1, 1, 2>} : tensor<?x4x16xf32> -> tensor<4x4x16xf32>
  return
}

// -----

func.func @transpose_permutation_out_of_range(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'vgcu.transpose' op permutation is not a permutation of [0, 3)}}
  %0 = vgcu.transpose %x {permutation = array<i64: 1, 0, 3>} : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'vgcu.transpose' op result shape [16, ?, 4] does not match the permuted input [4, ?, 16]}}
  %0 = vgcu.transpose %x {permutation = array<i64: 1, 0, 2>} : tensor<?x4x16xf32> -> tensor<16x?x4xf32>
  return
}

// -----

func.func @transpose_element_type(%x: tensor<?x4x16xf32>) {
  // expected-error @+1 {{'vgcu.transpose' op result element type must match the input}}
  %0 = vgcu.transpose %x {permutation = array<i64: 1, 0, 2>} : tensor<?x4x16xf32> -> tensor<4x?x16xbf16>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.reshape' op element types must agree}}
  %0 = vgcu.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xbf16>
  return
}

// -----

func.func @reshape_static_count(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'vgcu.reshape' op input has 256 elements but the result has 128}}
  %0 = vgcu.reshape %x : tensor<4x64xf32> -> tensor<8x16xf32>
  return
}

// -----

func.func @reshape_dynamic_to_static(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.reshape' op a dynamic shape cannot be reshaped to a static one or back}}
  %0 = vgcu.reshape %x : tensor<?x64xf32> -> tensor<4x64xf32>
  return
}

// -----

func.func @reshape_static_to_dynamic(%x: tensor<4x64xf32>) {
  // expected-error @+1 {{'vgcu.reshape' op a dynamic shape cannot be reshaped to a static one or back}}
  %0 = vgcu.reshape %x : tensor<4x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @reshape_incompatible_counts(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.reshape' op static element counts 64 and 48 are not compatible}}
  %0 = vgcu.reshape %x : tensor<?x64xf32> -> tensor<?x3x16xf32>
  return
}

// -----

func.func @broadcast_rank(%x: tensor<2x1x?x16xf32>) {
  // expected-error @+1 {{'vgcu.broadcast' op result rank must be at least the input rank}}
  %0 = vgcu.broadcast %x : tensor<2x1x?x16xf32> -> tensor<4x?x16xf32>
  return
}

// -----

func.func @broadcast_dim(%x: tensor<2x4x?x16xf32>) {
  // expected-error @+1 {{'vgcu.broadcast' op input dimension 1 of size 4 cannot broadcast to 8}}
  %0 = vgcu.broadcast %x : tensor<2x4x?x16xf32> -> tensor<2x8x?x16xf32>
  return
}

// -----

func.func @broadcast_element_type(%x: tensor<2x1x?x16xf32>) {
  // expected-error @+1 {{'vgcu.broadcast' op element types must agree}}
  %0 = vgcu.broadcast %x : tensor<2x1x?x16xf32> -> tensor<2x4x?x16xbf16>
  return
}

// -----

func.func @slice_dim(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op dim 2 is out of range for rank 2}}
  %0 = vgcu.slice %x {dim = 2 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @slice_step(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op attribute 'step' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64, step = 0 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @slice_negative_step(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op attribute 'step' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64, step = -2 : i64} : tensor<?x128xf32> -> tensor<?x32xf32>
  return
}

// -----

func.func @slice_negative_dim(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op dim -3 is out of range for rank 2}}
  %0 = vgcu.slice %x {dim = -3 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @slice_empty_range(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op range [64, 64) is empty or negative}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 64 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x0xf32>
  return
}

// -----

func.func @slice_negative_start(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op range [-1, 64) is empty or negative}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = -1 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x65xf32>
  return
}

// -----

func.func @slice_negative_end(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op range [0, -64) is empty or negative}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = -64 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @slice_end_beyond_size(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op range [64, 192) exceeds dimension size 128}}
  %0 = vgcu.slice %x {dim = -1 : i64, start = 64 : i64, end = 192 : i64} : tensor<?x128xf32> -> tensor<?x128xf32>
  return
}

// -----

func.func @slice_result_shape(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op result shape [?, 64] does not match [?, 32]}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64, step = 2 : i64} : tensor<?x128xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @slice_element_type(%x: tensor<?x128xf32>) {
  // expected-error @+1 {{'vgcu.slice' op result element type must match the input}}
  %0 = vgcu.slice %x {dim = 1 : i64, start = 0 : i64, end = 64 : i64} : tensor<?x128xf32> -> tensor<?x64xf16>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error @+1 {{'vgcu.concat' op needs at least one input}}
  %0 = vgcu.concat {dim = 0 : i64} : () -> tensor<?x8xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op dim 2 is out of range for rank 2}}
  %0 = vgcu.concat %a, %b {dim = 2 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @concat_negative_dim(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op dim -3 is out of range for rank 2}}
  %0 = vgcu.concat %a, %b {dim = -3 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @concat_first_rank(%a: tensor<?x2x8xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op inputs and result must have the same rank}}
  %0 = vgcu.concat %a, %b {dim = 1 : i64} : (tensor<?x2x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @concat_input_rank(%a: tensor<?x8xf32>, %b: tensor<?x1x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op inputs and result must agree in rank and element type}}
  %0 = vgcu.concat %a, %b {dim = 1 : i64} : (tensor<?x8xf32>, tensor<?x1x8xf32>) -> tensor<?x16xf32>
  return
}

// -----

func.func @concat_element_type(%a: tensor<?x8xf32>, %b: tensor<?x8xbf16>) {
  // expected-error @+1 {{'vgcu.concat' op inputs and result must agree in rank and element type}}
  %0 = vgcu.concat %a, %b {dim = 1 : i64} : (tensor<?x8xf32>, tensor<?x8xbf16>) -> tensor<?x16xf32>
  return
}

// -----

func.func @concat_disagreeing_dims(%a: tensor<4x8xf32>, %b: tensor<5x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op inputs disagree on dimension 0}}
  %0 = vgcu.concat %a, %b {dim = 1 : i64} : (tensor<4x8xf32>, tensor<5x8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @concat_result_shape(%a: tensor<?x8xf32>, %b: tensor<?x8xf32>) {
  // expected-error @+1 {{'vgcu.concat' op result shape [?, 32] does not match [?, 16]}}
  %0 = vgcu.concat %a, %b {dim = -1 : i64} : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x32xf32>
  return
}

// -----

func.func @gather_dim(%t: tensor<4096x16xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{'vgcu.gather' op dim 2 is out of range for rank 2}}
  %0 = vgcu.gather %t, %i {dim = 2 : i64} : tensor<4096x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  return
}

// -----

func.func @gather_negative_dim(%t: tensor<4096x16xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{'vgcu.gather' op dim -3 is out of range for rank 2}}
  %0 = vgcu.gather %t, %i {dim = -3 : i64} : tensor<4096x16xf32>, tensor<?xi64> -> tensor<?x16xf32>
  return
}

// -----

func.func @gather_indices_rank(%t: tensor<4096x16xf32>, %i: tensor<1x?xi64>) {
  // expected-error @+1 {{'vgcu.gather' op indices must be one-dimensional}}
  %0 = vgcu.gather %t, %i {dim = 0 : i64} : tensor<4096x16xf32>, tensor<1x?xi64> -> tensor<?x16xf32>
  return
}

// -----

func.func @gather_result_shape(%t: tensor<4096x16xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{'vgcu.gather' op result shape [?, 8] does not match [?, 16]}}
  %0 = vgcu.gather %t, %i {dim = 0 : i64} : tensor<4096x16xf32>, tensor<?xi64> -> tensor<?x8xf32>
  return
}

// -----

func.func @gather_element_type(%t: tensor<4096x16xf32>, %i: tensor<?xi32>) {
  // expected-error @+1 {{'vgcu.gather' op result element type must match the input}}
  %0 = vgcu.gather %t, %i {dim = 0 : i64} : tensor<4096x16xf32>, tensor<?xi32> -> tensor<?x16xbf16>
  return
}

// -----

func.func @attention_width_overflow(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op query width 4611686018427387904 x 16 overflows}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4611686018427387904 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_gated_epilogue_width(%x: tensor<?x64xf32>, %w: tensor<256x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op result shape [?, 256] does not match the expected [?, 128]}}
  %0 = vgcu.linear %x, %w epilogue silu_and_mul : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
  return
}

// -----

func.func @linear_residual_type(%x: tensor<?x64xf32>, %w: tensor<64x64xf32>, %r: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.linear' op residual type 'tensor<?x32xf32>' must equal the result type 'tensor<?x64xf32>'}}
  %0 = vgcu.linear %x, %w residual(%r : tensor<?x32xf32>) : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @linear_gated_epilogue_odd(%x: tensor<?x64xf32>, %w: tensor<255x64xf32>) {
  // expected-error @+1 {{'vgcu.linear' op a gated epilogue needs an even out_features, got 255}}
  %0 = vgcu.linear %x, %w epilogue gelu_and_mul : tensor<?x64xf32>, tensor<255x64xf32> -> tensor<?x127xf32>
  return
}

// -----

func.func @rotary_attention_norm_without_epsilon(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %w: tensor<16xf32>) {
  // expected-error @+1 {{'vgcu.rotary_attention' op q_norm_weight, k_norm_weight and norm_epsilon must be given together}}
  %0 = vgcu.rotary_attention %pos, %q, %k, %v qk_norm(%w, %w : tensor<16xf32>, tensor<16xf32>) neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, rotary_dim = 16 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @rotary_attention_norm_length(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_attention' op per-head norm weights must be [head_dim] of the query's element type}}
  %0 = vgcu.rotary_attention %pos, %q, %k, %v qk_norm(%w, %w : tensor<32xf32>, tensor<32xf32>) neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, rotary_dim = 16 : i64, theta = 1.0e+04 : f64, norm_epsilon = 1.0e-06 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

func.func @rotary_attention_partial_odd(%pos: tensor<?xi64>, %q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.rotary_attention' op rotary_dim 7 must be even and within (0, 16]}}
  %0 = vgcu.rotary_attention %pos, %q, %k, %v neox {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, rotary_dim = 7 : i64, theta = 1.0e+04 : f64} : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

// The number of sequences is dynamic, so is the result's row count.
func.func @last_token_shape(%x: tensor<?x64xf32>, %qsl: tensor<?xi64>) {
  // expected-error @+1 {{'vgcu.last_token' op result type 'tensor<2x64xf32>' must be 'tensor<?x64xf32>'}}
  %0 = vgcu.last_token %x, %qsl : tensor<?x64xf32>, tensor<?xi64> -> tensor<2x64xf32>
  return
}

// -----

func.func @last_token_query_start_loc_rank(%x: tensor<?x64xf32>, %qsl: tensor<1x?xi64>) {
  // expected-error @+1 {{'vgcu.last_token' op query_start_loc must be one-dimensional}}
  %0 = vgcu.last_token %x, %qsl : tensor<?x64xf32>, tensor<1x?xi64> -> tensor<?x64xf32>
  return
}

// -----

func.func @norm_add_norm_post_weight(%x: tensor<?x64xbf16>, %r: tensor<?x64xbf16>, %w1: tensor<32xf32>, %w2: tensor<64xf32>) {
  // expected-error @+1 {{'vgcu.norm_add_norm' op post_weight length 32 does not match the last input dimension 64}}
  %0:2 = vgcu.norm_add_norm %x, %r, %w1, %w2 {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<32xf32>, tensor<64xf32>
  return
}

// -----

func.func @norm_add_norm_weight_type(%x: tensor<?x64xbf16>, %r: tensor<?x64xbf16>, %w1: tensor<64xf32>, %w2: tensor<64xf16>) {
  // expected-error @+1 {{'vgcu.all_reduce_norm_add_norm' op weight element type 'f16' does not match the input element type 'bf16'}}
  %0:2 = vgcu.all_reduce_norm_add_norm %x, %r, %w1, %w2 {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64} : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf16>
  return
}

// -----

func.func @soft_cap_zero(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.soft_cap' op attribute 'cap' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.soft_cap %x {cap = 0.0 : f64} : tensor<?x64xf32>
  return
}

// -----

func.func @attention_negative_softcap(%q: tensor<?x64xf32>, %k: tensor<?x32xf32>, %v: tensor<?x32xf32>) {
  // expected-error @+1 {{'vgcu.attention' op attribute 'softcap' failed to satisfy constraint: 64-bit float attribute whose value is positive}}
  %0 = vgcu.attention %q, %k, %v {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal, softcap = -1.0 : f64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// vgcu.moe_router, vgcu.moe_experts
//===----------------------------------------------------------------------===//

func.func @moe_top_k_too_large(%x: tensor<?x64xf32>, %gate: tensor<4x64xf32>) {
  // expected-error @+1 {{'vgcu.moe_router' op top_k 8 exceeds the 4 experts}}
  %w, %ids = vgcu.moe_router %x, %gate {top_k = 8 : i64} : tensor<?x64xf32>, tensor<4x64xf32> -> tensor<?x8xf32>, tensor<?x8xi64>
  return
}

// -----

func.func @moe_gate_hidden(%x: tensor<?x64xf32>, %gate: tensor<4x32xf32>) {
  // expected-error @+1 {{'vgcu.moe_router' op gate is [4, 32] for hidden size 64}}
  %w, %ids = vgcu.moe_router %x, %gate {top_k = 2 : i64} : tensor<?x64xf32>, tensor<4x32xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  return
}

// -----

func.func @moe_experts_down_rows(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi64>, %gate_up: tensor<512x64xf32>, %down: tensor<256x32xf32>) {
  // expected-error @+1 {{'vgcu.moe_experts' op down is [256, 32]; 8 experts of hidden size 64 need 512 rows}}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64, expert_modules = ["w1", "w3", "w2"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<256x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_experts_expert_parallel_indivisible(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi64>, %gate_up: tensor<512x64xf32>, %down: tensor<512x32xf32>) {
  // expected-error @+1 {{'vgcu.moe_experts' op num_experts = 8 is not divisible by expert_parallel = 3}}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64, expert_parallel = 3 : i64, expert_modules = ["w1", "w3", "w2"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_experts_gate_up_rows(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi64>, %gate_up: tensor<256x64xf32>, %down: tensor<512x32xf32>) {
  // expected-error @+1 {{'vgcu.moe_experts' op gate_up is [256, 64]; 8 experts of intermediate size 32 need [512, 64]}}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64, expert_modules = ["w1", "w3", "w2"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<256x64xf32>, tensor<512x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_experts_modules(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi64>, %gate_up: tensor<512x64xf32>, %down: tensor<512x32xf32>) {
  // expected-error @+1 {{'vgcu.moe_experts' op expert_modules names the gate, up and down projections}}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64, expert_modules = ["w1", "w2"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_shared_expert_shapes(%x: tensor<?x64xf32>, %w: tensor<?x2xf32>, %ids: tensor<?x2xi64>, %gate_up: tensor<512x64xf32>, %down: tensor<512x32xf32>, %sgu: tensor<100x64xf32>, %sd: tensor<64x64xf32>, %sg: tensor<1x64xf32>) {
  // expected-error @+1 {{'vgcu.moe_experts' op the shared expert must be [2·Is, hidden], [hidden, Is] and a [1, hidden] gate}}
  %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down shared(%sgu, %sd) shared_gate(%sg) {num_experts = 8 : i64, expert_modules = ["w1", "w3", "w2"]} : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<512x64xf32>, tensor<512x32xf32>, tensor<100x64xf32>, tensor<64x64xf32>, tensor<1x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @topk_exceeds(%p: tensor<?x8xf32>) {
  // expected-error @+1 {{'vgcu.topk' op k = 9 exceeds the last dimension, 8}}
  %v, %i = vgcu.topk %p {k = 9 : i64} : tensor<?x8xf32> -> tensor<?x9xf32>, tensor<?x9xi64>
  return
}

// -----

func.func @scatter_index_rank(%p: tensor<?x8xf32>, %ids: tensor<?xi64>, %w: tensor<?xf32>) {
  // expected-error @+1 {{'vgcu.scatter' op index and src must have one shape, of the input's rank}}
  %d = vgcu.scatter %p, %ids, %w {dim = 1 : i64} : tensor<?x8xf32>, tensor<?xi64>, tensor<?xf32>
  return
}

// -----

func.func @mla_query_width(%pos: tensor<?xi64>, %q: tensor<?x90xf32>, %c: tensor<?x32xf32>, %kpe: tensor<?x8xf32>, %kvb: tensor<128x32xf32>) {
  // expected-error @+1 {{'vgcu.mla_attention' op query width 90 is not num_heads x (qk_nope_head_dim + qk_rope_head_dim) = 96}}
  %o = vgcu.mla_attention %pos, %q, %c, %kpe, %kvb {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64} : (tensor<?xi64>, tensor<?x90xf32>, tensor<?x32xf32>, tensor<?x8xf32>, tensor<128x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @mla_odd_rope(%pos: tensor<?xi64>, %q: tensor<?x92xf32>, %c: tensor<?x32xf32>, %kpe: tensor<?x7xf32>, %kvb: tensor<128x32xf32>) {
  // expected-error @+1 {{'vgcu.mla_attention' op qk_rope_head_dim = 7 must be even to rotate in pairs}}
  %o = vgcu.mla_attention %pos, %q, %c, %kpe, %kvb {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 7 : i64, v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64} : (tensor<?xi64>, tensor<?x92xf32>, tensor<?x32xf32>, tensor<?x7xf32>, tensor<128x32xf32>) -> tensor<?x64xf32>
  return
}

// -----

func.func @moe_router_groups_indivisible(%x: tensor<?x64xf32>, %gate: tensor<8x64xf32>) {
  // expected-error @+1 {{'vgcu.moe_router' op num_groups = 3 does not divide the 8 experts}}
  %w, %ids = vgcu.moe_router %x, %gate {top_k = 2 : i64, num_groups = 3 : i64, topk_groups = 1 : i64} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  return
}

// -----

func.func @moe_router_groups_alone(%x: tensor<?x64xf32>, %gate: tensor<8x64xf32>) {
  // expected-error @+1 {{'vgcu.moe_router' op num_groups and topk_groups go together}}
  %w, %ids = vgcu.moe_router %x, %gate {top_k = 2 : i64, num_groups = 4 : i64} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  return
}

// -----

func.func @moe_router_bias_shape(%x: tensor<?x64xf32>, %gate: tensor<8x64xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{'vgcu.moe_router' op correction_bias must be [num_experts]}}
  %w, %ids = vgcu.moe_router %x, %gate bias(%b : tensor<4xf32>) {top_k = 2 : i64} : tensor<?x64xf32>, tensor<8x64xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
  return
}
