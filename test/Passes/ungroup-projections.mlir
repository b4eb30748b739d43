// vgcu-ungroup-projections: a projection whose output is viewed as [T, (groups,) parts, width]
// and cut into parts becomes a linear over a weight reordered part by part (computed from the
// parameter) whose parts are contiguous slices of its output.
// RUN: vgcu-opt %s --vgcu-ungroup-projections --split-input-file | FileCheck %s

// InternLM2's wqkv: 2 KV heads, each with 2 query heads, a key and a value of 16 channels.
// CHECK-LABEL: func.func @internlm2_wqkv
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.attention.wqkv.weight" : tensor<128x64xf32>
// CHECK: %[[B:.*]] = vgcu.param "model.layers.0.attention.wqkv.bias" : tensor<128xf32>
// CHECK: %[[WG:.*]] = vgcu.reshape %[[W]] : tensor<128x64xf32> -> tensor<2x4x16x64xf32>
// CHECK: %[[WQ:.*]] = vgcu.slice %[[WG]] {dim = 1 : i64, end = 2 : i64, start = 0 : i64} : tensor<2x4x16x64xf32> -> tensor<2x2x16x64xf32>
// CHECK: %[[WQF:.*]] = vgcu.reshape %[[WQ]] : tensor<2x2x16x64xf32> -> tensor<64x64xf32>
// CHECK: %[[WK:.*]] = vgcu.slice %[[WG]] {dim = 1 : i64, end = 3 : i64, start = 2 : i64}
// CHECK: %[[WKF:.*]] = vgcu.reshape %[[WK]] : tensor<2x1x16x64xf32> -> tensor<32x64xf32>
// CHECK: %[[WV:.*]] = vgcu.slice %[[WG]] {dim = 1 : i64, end = 4 : i64, start = 3 : i64}
// CHECK: %[[WVF:.*]] = vgcu.reshape %[[WV]] : tensor<2x1x16x64xf32> -> tensor<32x64xf32>
// CHECK: %[[WN:.*]] = vgcu.concat %[[WQF]], %[[WKF]], %[[WVF]] {dim = 0 : i64}
// CHECK: %[[BN:.*]] = vgcu.concat {{.*}} {dim = 0 : i64} : (tensor<64xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<128xf32>
// CHECK: %[[Y:.*]] = vgcu.linear %{{.*}}, %[[WN]], %[[BN]]
// CHECK: %[[Q:.*]] = vgcu.slice %[[Y]] {dim = 1 : i64, end = 64 : i64, start = 0 : i64}
// CHECK: vgcu.reshape %[[Q]] : tensor<?x64xf32> -> tensor<?x2x2x16xf32>
// CHECK: %[[K:.*]] = vgcu.slice %[[Y]] {dim = 1 : i64, end = 96 : i64, start = 64 : i64}
// CHECK: vgcu.reshape %[[K]] : tensor<?x32xf32> -> tensor<?x2x1x16xf32>
// CHECK: %[[V:.*]] = vgcu.slice %[[Y]] {dim = 1 : i64, end = 128 : i64, start = 96 : i64}
func.func @internlm2_wqkv(%x: tensor<?x64xf32>) -> (tensor<?x2x2x16xf32>, tensor<?x2x1x16xf32>, tensor<?x2x1x16xf32>) {
  %w = vgcu.param "model.layers.0.attention.wqkv.weight" : tensor<128x64xf32>
  %b = vgcu.param "model.layers.0.attention.wqkv.bias" : tensor<128xf32>
  %y = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %v4 = vgcu.reshape %y : tensor<?x128xf32> -> tensor<?x2x4x16xf32>
  %q = vgcu.slice %v4 {dim = 2 : i64, start = 0 : i64, end = 2 : i64} : tensor<?x2x4x16xf32> -> tensor<?x2x2x16xf32>
  %k = vgcu.slice %v4 {dim = -2 : i64, start = 2 : i64, end = 3 : i64} : tensor<?x2x4x16xf32> -> tensor<?x2x1x16xf32>
  %v = vgcu.slice %v4 {dim = 2 : i64, start = 3 : i64, end = 4 : i64} : tensor<?x2x4x16xf32> -> tensor<?x2x1x16xf32>
  return %q, %k, %v : tensor<?x2x2x16xf32>, tensor<?x2x1x16xf32>, tensor<?x2x1x16xf32>
}

// -----

// Baichuan's W_pack viewed as [T, 3, hidden]: the parts are already contiguous rows, so the
// weight stays as it is.
// CHECK-LABEL: func.func @baichuan_w_pack
// CHECK: %[[W:.*]] = vgcu.param "model.layers.0.self_attn.W_pack.weight" : tensor<192x64xf32>
// CHECK-NOT: vgcu.concat
// CHECK: %[[Y:.*]] = vgcu.linear %{{.*}}, %[[W]]
// CHECK: vgcu.slice %[[Y]] {dim = 1 : i64, end = 64 : i64, start = 0 : i64}
// CHECK: vgcu.slice %[[Y]] {dim = 1 : i64, end = 128 : i64, start = 64 : i64}
// CHECK: vgcu.slice %[[Y]] {dim = 1 : i64, end = 192 : i64, start = 128 : i64}
func.func @baichuan_w_pack(%x: tensor<?x64xf32>) -> (tensor<?x1x64xf32>, tensor<?x1x64xf32>, tensor<?x1x64xf32>) {
  %w = vgcu.param "model.layers.0.self_attn.W_pack.weight" : tensor<192x64xf32>
  %y = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<192x64xf32> -> tensor<?x192xf32>
  %v3 = vgcu.reshape %y : tensor<?x192xf32> -> tensor<?x3x64xf32>
  %q = vgcu.slice %v3 {dim = 1 : i64, start = 0 : i64, end = 1 : i64} : tensor<?x3x64xf32> -> tensor<?x1x64xf32>
  %k = vgcu.slice %v3 {dim = 1 : i64, start = 1 : i64, end = 2 : i64} : tensor<?x3x64xf32> -> tensor<?x1x64xf32>
  %v = vgcu.slice %v3 {dim = 1 : i64, start = 2 : i64, end = 3 : i64} : tensor<?x3x64xf32> -> tensor<?x1x64xf32>
  return %q, %k, %v : tensor<?x1x64xf32>, tensor<?x1x64xf32>, tensor<?x1x64xf32>
}

// -----

// Left alone: the view is also used whole, and the parts leave a gap.
// CHECK-LABEL: func.func @not_parts
// CHECK-NOT: vgcu.concat
// CHECK: vgcu.reshape %{{.*}} : tensor<?x128xf32> -> tensor<?x2x4x16xf32>
// CHECK: vgcu.reshape %{{.*}} : tensor<?x128xf32> -> tensor<?x2x4x16xf32>
func.func @not_parts(%x: tensor<?x64xf32>) -> (tensor<?x2x4x16xf32>, tensor<?x2x2x16xf32>, tensor<?x2x1x16xf32>) {
  %w = vgcu.param "w.weight" : tensor<128x64xf32>
  %y = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %v4 = vgcu.reshape %y : tensor<?x128xf32> -> tensor<?x2x4x16xf32>
  %q = vgcu.slice %v4 {dim = 2 : i64, start = 0 : i64, end = 2 : i64} : tensor<?x2x4x16xf32> -> tensor<?x2x2x16xf32>
  %w2 = vgcu.param "w2.weight" : tensor<128x64xf32>
  %y2 = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %v42 = vgcu.reshape %y2 : tensor<?x128xf32> -> tensor<?x2x4x16xf32>
  %k = vgcu.slice %v42 {dim = 2 : i64, start = 3 : i64, end = 4 : i64} : tensor<?x2x4x16xf32> -> tensor<?x2x1x16xf32>
  return %v4, %q, %k : tensor<?x2x4x16xf32>, tensor<?x2x2x16xf32>, tensor<?x2x1x16xf32>
}
