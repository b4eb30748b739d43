// vgcu-lower-to-gcu: the fused add + norm ops become one in-place kernel each, on the input's
// buffer (the normed value) and the residual's (the sum); operands that die there are updated
// in place, and an add of a value to itself gets a copy so the two outputs stay apart.
// RUN: vgcu-opt %s --vgcu-lower-to-gcu --split-input-file | FileCheck %s

// x + x: both operands are one buffer, so the residual is copied before the kernel.
// CHECK-LABEL: func.func @prefill
// CHECK: %[[X:.*]] = gcu.alloc
// CHECK: gcu.embedding {{.*}} outs(%[[X]] :
// CHECK: %[[COPY:.*]] = gcu.alloc
// CHECK: gcu.unary copy ins(%[[X]] : {{.*}}) outs(%[[COPY]] :
// CHECK-NEXT: gcu.fused_add_rms_norm ins(%{{.*}} : memref<64xf32>) inouts(%[[X]], %[[COPY]] :
// CHECK-LABEL: func.func @decode
module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "model.embed_tokens.weight" : tensor<250x64xf32>
    %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
    %w = vgcu.param "model.norm.weight" : tensor<64xf32>
    %n, %s = vgcu.add_rms_norm %x, %x, %w {epsilon = 1.0e-06 : f64} : tensor<?x64xf32>, tensor<64xf32>
    %o = vgcu.add %n, %s : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
    return %o : tensor<?x64xf32>
  }
  func.func @compute_logits(%h: tensor<?x64xf32>) -> tensor<?x250xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
    %l = vgcu.linear %h, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
    return %l : tensor<?x250xf32>
  }
}

// -----

// Input and residual die at the LayerNorm: no copies, the kernel works on their buffers.
// CHECK-LABEL: func.func @prefill
// CHECK-NOT: gcu.unary copy
// CHECK: %[[X:.*]] = gcu.alloc
// CHECK: gcu.embedding {{.*}} outs(%[[X]] :
// CHECK: %[[Y:.*]] = gcu.alloc
// CHECK: gcu.unary neg ins(%[[X]] : {{.*}}) outs(%[[Y]] :
// CHECK-NOT: gcu.unary copy
// CHECK: gcu.fused_add_layer_norm ins(%{{.*}}, %{{.*}} : memref<64xf32>, memref<64xf32>) inouts(%[[Y]], %[[X]] :
// CHECK-SAME: {epsilon = 1.000000e-05 : f64}
// CHECK: gcu.last_token_view %[[Y]]
// CHECK-LABEL: func.func @decode
module {
  func.func @forward(%ids: tensor<?xi64>, %pos: tensor<?xi64>) -> tensor<?x64xf32> {
    %table = vgcu.param "model.decoder.embed_tokens.weight" : tensor<250x64xf32>
    %x = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<250x64xf32> -> tensor<?x64xf32>
    %y = vgcu.neg %x : tensor<?x64xf32>
    %w = vgcu.param "model.decoder.final_layer_norm.weight" : tensor<64xf32>
    %b = vgcu.param "model.decoder.final_layer_norm.bias" : tensor<64xf32>
    %n, %s = vgcu.add_layer_norm %y, %x, %w, %b {epsilon = 1.0e-05 : f64} : tensor<?x64xf32>, tensor<64xf32>, tensor<64xf32>
    return %n : tensor<?x64xf32>
  }
  func.func @compute_logits(%h: tensor<?x64xf32>) -> tensor<?x250xf32> {
    %head = vgcu.param "lm_head.weight" : tensor<250x64xf32>
    %l = vgcu.linear %h, %head : tensor<?x64xf32>, tensor<250x64xf32> -> tensor<?x250xf32>
    return %l : tensor<?x250xf32>
  }
}
