// vgcu-fuse-gemm-epilogue: an activation that is a linear's only user becomes the linear's
// epilogue, and an add of a value computed before the linear its residual; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-gemm-epilogue --split-input-file | FileCheck %s

// Gated MLP: gate_up projection with silu_and_mul, down projection plus the residual.
// CHECK-LABEL: func.func @gated_mlp
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x64xf32>, %[[R:[a-z0-9]+]]: tensor<?x64xf32>)
// CHECK: %[[H:.*]] = vgcu.linear %[[X]], %{{.*}} epilogue silu_and_mul : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x128xf32>
// CHECK: %[[Y:.*]] = vgcu.linear %[[H]], %{{.*}} residual(%[[R]] : tensor<?x64xf32>) : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
// CHECK-NOT: vgcu.silu_and_mul
// CHECK-NOT: vgcu.add
// CHECK: return %[[Y]]
func.func @gated_mlp(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %gu = vgcu.param "mlp.gate_up_proj.weight" : tensor<256x64xf32>
  %down = vgcu.param "mlp.down_proj.weight" : tensor<64x128xf32>
  %p = vgcu.linear %x, %gu : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x256xf32>
  %h = vgcu.silu_and_mul %p : tensor<?x256xf32> -> tensor<?x128xf32>
  %d = vgcu.linear %h, %down : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
  %y = vgcu.add %r, %d : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

// -----

// The GELU variants and ReLU, with a bias: the bias stays on the linear.
// CHECK-LABEL: func.func @activations
// CHECK: vgcu.linear %{{.*}}, %{{.*}}, %{{.*}} epilogue gelu_tanh_and_mul
// CHECK: vgcu.linear %{{.*}}, %{{.*}}, %{{.*}} epilogue relu
// CHECK: vgcu.linear %{{.*}}, %{{.*}}, %{{.*}} epilogue gelu :
// CHECK-NOT: vgcu.gelu_and_mul
// CHECK-NOT: vgcu.relu
func.func @activations(%x: tensor<?x64xf32>) -> (tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "a.weight" : tensor<128x64xf32>
  %b = vgcu.param "a.bias" : tensor<128xf32>
  %w2 = vgcu.param "b.weight" : tensor<64x64xf32>
  %b2 = vgcu.param "b.bias" : tensor<64xf32>
  %p = vgcu.linear %x, %w, %b : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
  %g = vgcu.gelu_and_mul %p tanh : tensor<?x128xf32> -> tensor<?x64xf32>
  %q = vgcu.linear %x, %w2, %b2 : tensor<?x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %r = vgcu.relu %q : tensor<?x64xf32>
  %s = vgcu.linear %x, %w2, %b2 : tensor<?x64xf32>, tensor<64x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  %t = vgcu.gelu %s none : tensor<?x64xf32>
  return %g, %r, %t : tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Look-alikes: the product is also used elsewhere (the activation cannot take it over), the
// residual is computed after the linear (the kernel could not read it), the add broadcasts,
// and an activation after a residual add (the kernel adds the residual last).
// CHECK-LABEL: func.func @look_alikes
// CHECK: %[[P:.*]] = vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
// CHECK: vgcu.silu_and_mul %[[P]]
// CHECK: %[[L:.*]] = vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
// CHECK: %[[LATE:.*]] = vgcu.neg
// CHECK: vgcu.add %[[L]], %[[LATE]]
// CHECK: %[[L2:.*]] = vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
// CHECK: vgcu.add %[[L2]], %{{.*}} : (tensor<?x64xf32>, tensor<64xf32>)
// CHECK: %[[L3:.*]] = vgcu.linear %{{.*}}, %{{.*}} residual(%{{.*}} : tensor<?x64xf32>) : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
// CHECK: vgcu.relu %[[L3]]
func.func @look_alikes(%x: tensor<?x64xf32>, %r: tensor<?x64xf32>, %bias: tensor<64xf32>) -> (tensor<?x64xf32>, tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>) {
  %w = vgcu.param "a.weight" : tensor<128x64xf32>
  %w2 = vgcu.param "b.weight" : tensor<64x64xf32>
  %p = vgcu.linear %x, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %h = vgcu.silu_and_mul %p : tensor<?x128xf32> -> tensor<?x64xf32>
  %l = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %late = vgcu.neg %x : tensor<?x64xf32>
  %sum = vgcu.add %l, %late : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %l2 = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %bsum = vgcu.add %l2, %bias : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %l3 = vgcu.linear %x, %w2 : tensor<?x64xf32>, tensor<64x64xf32> -> tensor<?x64xf32>
  %res = vgcu.add %l3, %r : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %act = vgcu.relu %res : tensor<?x64xf32>
  return %h, %p, %sum, %bsum, %act : tensor<?x64xf32>, tensor<?x128xf32>, tensor<?x64xf32>, tensor<?x64xf32>, tensor<?x64xf32>
}

// -----

// Gemma 2's capped logits: the cap becomes the LM head's soft_cap.
// CHECK-LABEL: func.func @soft_cap_logits
// CHECK: %[[L:.*]] = vgcu.linear %{{.*}}, %{{.*}} {soft_cap = 3.000000e+01 : f64} : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
// CHECK-NOT: vgcu.soft_cap
// CHECK: return %[[L]]
func.func @soft_cap_logits(%h: tensor<?x64xf32>) -> tensor<?x250xf32> {
  %w = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
  %l = vgcu.linear %h, %w : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
  %c = vgcu.soft_cap %l {cap = 3.0e+01 : f64} : tensor<?x250xf32>
  return %c : tensor<?x250xf32>
}

// -----

// At tp = 2 the cap moves before the gather of the vocabulary shards (and the cut of the
// padding), to the shard's GEMM.
// CHECK-LABEL: func.func @soft_cap_vocab_parallel
// CHECK: %[[L:.*]] = vgcu.linear %{{.*}}, %{{.*}} {soft_cap = 3.000000e+01 : f64}
// CHECK: %[[G:.*]] = vgcu.all_gather %[[L]]
// CHECK: %[[S:.*]] = vgcu.slice %[[G]]
// CHECK-NOT: vgcu.soft_cap
// CHECK: return %[[S]]
func.func @soft_cap_vocab_parallel(%h: tensor<?x64xf32>) -> tensor<?x250xf32> {
  %w = vgcu.param "model.embed_tokens.weight" shard(#vgcu.shard<dim = 0, tp = 2, segments = [256], units = [256], valid = 250>) : tensor<128x64xf32>
  %l = vgcu.linear %h, %w : tensor<?x64xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  %g = vgcu.all_gather %l {dim = 1 : i64, world_size = 2 : i64} : tensor<?x128xf32> -> tensor<?x256xf32>
  %s = vgcu.slice %g {dim = 1 : i64, start = 0 : i64, end = 250 : i64} : tensor<?x256xf32> -> tensor<?x250xf32>
  %c = vgcu.soft_cap %s {cap = 3.0e+01 : f64} : tensor<?x250xf32>
  return %c : tensor<?x250xf32>
}

// -----

// Look-alike: the logits are read uncapped as well, so the cap stays its own op.
// CHECK-LABEL: func.func @soft_cap_shared_product
// CHECK: vgcu.linear %{{.*}}, %{{.*}} : tensor<?x64xf32>
// CHECK: vgcu.soft_cap
func.func @soft_cap_shared_product(%h: tensor<?x64xf32>) -> (tensor<?x250xf32>, tensor<?x250xf32>) {
  %w = vgcu.param "lm_head.weight" : tensor<250x64xf32>
  %l = vgcu.linear %h, %w : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
  %c = vgcu.soft_cap %l {cap = 3.0e+01 : f64} : tensor<?x250xf32>
  return %c, %l : tensor<?x250xf32>, tensor<?x250xf32>
}
