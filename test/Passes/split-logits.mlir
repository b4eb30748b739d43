// vgcu-split-logits: a traced @forward ending in the LM head becomes @forward -> hidden states
// and @compute_logits(hidden_states) -> logits; a tied head keeps the embedding table in both.
// RUN: vgcu-opt %s --vgcu-split-logits --split-input-file --verify-diagnostics | FileCheck %s

// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> tensor<?x64xf32>
// CHECK: %[[H:.*]] = vgcu.rms_norm
// CHECK-NOT: lm_head
// CHECK: return %[[H]] : tensor<?x64xf32>
// CHECK-LABEL: func.func @compute_logits
// CHECK-SAME: (%[[ARG:.*]]: tensor<?x64xf32> {vgcu.name = "hidden_states"}) -> tensor<?x250xf32>
// CHECK: %[[W:.*]] = vgcu.param "lm_head.weight"
// CHECK: %[[L:.*]] = vgcu.linear %[[ARG]], %[[W]]
// CHECK: return %[[L]]
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x250xf32> {
  %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
  %w = vgcu.param "model.norm.weight" : tensor<64xf32>
  %h = vgcu.rms_norm %x, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
  %logits = vgcu.linear %h, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
  return %logits : tensor<?x250xf32>
}

// -----

// Tied embeddings: the table stays in @forward for the embedding and is named again in
// @compute_logits; a bias comes along.
// CHECK-LABEL: func.func @forward
// CHECK: vgcu.param "model.embed_tokens.weight"
// CHECK: vgcu.embedding
// CHECK-LABEL: func.func @compute_logits
// CHECK: vgcu.param "model.embed_tokens.weight"
// CHECK: vgcu.param "lm_head.bias"
// CHECK: vgcu.linear %arg0, %{{.*}}, %{{.*}} :
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x250xf32> {
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
  %bias = vgcu.param "lm_head.bias" : tensor<250xf32>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
  %logits = vgcu.linear %x, %table, %bias : tensor<?x64xf32>, tensor<250x64xf32>, tensor<250xf32> -> tensor<?x250xf32>
  return %logits : tensor<?x250xf32>
}

// -----

// A bf16 trace upcasts its logits last (`.float()`): the upcast is left to the runtime (which
// reads logits as f32), so @compute_logits returns the head's bf16 logits like a builder's.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> tensor<?x64xbf16>
// CHECK-NOT: vgcu.cast
// CHECK-LABEL: func.func @compute_logits
// CHECK-SAME: -> tensor<?x250xbf16>
// CHECK: %[[L:.*]] = vgcu.linear
// CHECK-NOT: vgcu.cast
// CHECK: return %[[L]] : tensor<?x250xbf16>
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x250xf32> {
  %head = vgcu.param "lm_head.weight" : tensor<250x64xbf16>
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xbf16>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xbf16> -> tensor<?x64xbf16>
  %logits = vgcu.linear %x, %head : tensor<?x64xbf16>, tensor<250x64xbf16> -> tensor<?x250xbf16>
  %upcast = vgcu.cast %logits : tensor<?x250xbf16> to tensor<?x250xf32>
  return %upcast : tensor<?x250xf32>
}

// -----

// Gemma 2: the soft cap of the logits goes with the head into @compute_logits.
// CHECK-LABEL: func.func @forward
// CHECK-NOT: vgcu.soft_cap
// CHECK-LABEL: func.func @compute_logits
// CHECK: %[[L:.*]] = vgcu.linear
// CHECK: %[[C:.*]] = vgcu.soft_cap %[[L]] {cap = 3.000000e+01 : f64}
// CHECK: return %[[C]] : tensor<?x250xbf16>
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x250xf32> {
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xbf16>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xbf16> -> tensor<?x64xbf16>
  %logits = vgcu.linear %x, %table : tensor<?x64xbf16>, tensor<250x64xbf16> -> tensor<?x250xbf16>
  %capped = vgcu.soft_cap %logits {cap = 3.0e+01 : f64} : tensor<?x250xbf16>
  %upcast = vgcu.cast %capped : tensor<?x250xbf16> to tensor<?x250xf32>
  return %upcast : tensor<?x250xf32>
}

// -----

// An upcast of something other than the head's logits is no LM head.
// expected-error @+1 {{@forward does not end in an LM head}}
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xbf16>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xbf16> -> tensor<?x64xbf16>
  %y = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// A module already split (what the builders make) is left alone.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> tensor<?x64xf32>
// CHECK-LABEL: func.func @compute_logits
// CHECK: vgcu.linear
// CHECK-NOT: func.func
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
  return %x : tensor<?x64xf32>
}
func.func @compute_logits(%h: tensor<?x64xf32>) -> tensor<?x250xf32> {
  %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
  %logits = vgcu.linear %h, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
  return %logits : tensor<?x250xf32>
}

// -----

// The result is not a projection by a parameter: nothing to split off.
// expected-error @+1 {{@forward does not end in an LM head}}
func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
  %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
  %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
  %y = vgcu.neg %x : tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// expected-error @+1 {{expected @forward(input_ids, positions) -> logits to split}}
module {
  func.func @main(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
    return %x : tensor<?x64xf32>
  }
}
