// vgcu-fuse-gelu: GELU's tanh approximation written out (GPT-2's gelu_new, transformers'
// NewGELUActivation) becomes vgcu.gelu tanh; look-alikes stay.
// RUN: vgcu-opt %s --vgcu-fuse-gelu --split-input-file | FileCheck %s

// 0.5 * x * (1.0 + tanh(sqrt(2/pi) * (x + 0.044715 * pow(x, 3.0)))), as the trace spells it.
// CHECK-LABEL: func.func @gelu_new
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x128xf32>)
// CHECK: %[[G:.*]] = vgcu.gelu %[[X]] tanh : tensor<?x128xf32>
// CHECK-NOT: vgcu.tanh
// CHECK: return %[[G]]
func.func @gelu_new(%x: tensor<?x128xf32>) -> tensor<?x128xf32> {
  %half = vgcu.constant dense<5.0e-01> : tensor<f32>
  %three = vgcu.constant dense<3.0e+00> : tensor<f32>
  %k = vgcu.constant dense<4.471500e-02> : tensor<f32>
  %c = vgcu.constant dense<0.797884583> : tensor<f32>
  %one = vgcu.constant dense<1.0e+00> : tensor<f32>
  %hx = vgcu.mul %x, %half : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %cube = vgcu.pow %x, %three : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %kc = vgcu.mul %cube, %k : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %sum = vgcu.add %x, %kc : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %arg = vgcu.mul %sum, %c : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %t = vgcu.tanh %arg : tensor<?x128xf32>
  %shift = vgcu.add %t, %one : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %y = vgcu.mul %hx, %shift : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  return %y : tensor<?x128xf32>
}

// -----

// The other grouping, 0.5 * (x * (1 + tanh(...))), with x³ as x · x · x.
// CHECK-LABEL: func.func @gelu_regrouped
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<?x64xbf16>)
// CHECK: %[[G:.*]] = vgcu.gelu %[[X]] tanh : tensor<?x64xbf16>
// CHECK: return %[[G]]
func.func @gelu_regrouped(%x: tensor<?x64xbf16>) -> tensor<?x64xbf16> {
  %half = vgcu.constant dense<5.0e-01> : tensor<bf16>
  %k = vgcu.constant dense<4.471500e-02> : tensor<bf16>
  %c = vgcu.constant dense<0.797884583> : tensor<bf16>
  %one = vgcu.constant dense<1.0e+00> : tensor<bf16>
  %x2 = vgcu.mul %x, %x : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %x3 = vgcu.mul %x2, %x : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %kc = vgcu.mul %k, %x3 : (tensor<bf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %sum = vgcu.add %kc, %x : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %arg = vgcu.mul %c, %sum : (tensor<bf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %t = vgcu.tanh %arg : tensor<?x64xbf16>
  %shift = vgcu.add %one, %t : (tensor<bf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %xs = vgcu.mul %x, %shift : (tensor<?x64xbf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  %y = vgcu.mul %half, %xs : (tensor<bf16>, tensor<?x64xbf16>) -> tensor<?x64xbf16>
  return %y : tensor<?x64xbf16>
}

// -----

// Look-alikes: a different cubic coefficient, and the cube of another value.
// CHECK-LABEL: func.func @no_gelu
// CHECK-NOT: vgcu.gelu
// CHECK: vgcu.tanh
// CHECK: vgcu.tanh
// CHECK-NOT: vgcu.gelu
func.func @no_gelu(%x: tensor<?x128xf32>, %z: tensor<?x128xf32>) -> (tensor<?x128xf32>, tensor<?x128xf32>) {
  %half = vgcu.constant dense<5.0e-01> : tensor<f32>
  %three = vgcu.constant dense<3.0e+00> : tensor<f32>
  %k = vgcu.constant dense<5.0e-02> : tensor<f32>
  %k2 = vgcu.constant dense<4.471500e-02> : tensor<f32>
  %c = vgcu.constant dense<0.797884583> : tensor<f32>
  %one = vgcu.constant dense<1.0e+00> : tensor<f32>
  %hx = vgcu.mul %x, %half : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %cube = vgcu.pow %x, %three : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %kc = vgcu.mul %cube, %k : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %sum = vgcu.add %x, %kc : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %arg = vgcu.mul %sum, %c : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %t = vgcu.tanh %arg : tensor<?x128xf32>
  %shift = vgcu.add %t, %one : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %y = vgcu.mul %hx, %shift : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %zcube = vgcu.pow %z, %three : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %kz = vgcu.mul %zcube, %k2 : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %sum2 = vgcu.add %x, %kz : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  %arg2 = vgcu.mul %sum2, %c : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %t2 = vgcu.tanh %arg2 : tensor<?x128xf32>
  %shift2 = vgcu.add %t2, %one : (tensor<?x128xf32>, tensor<f32>) -> tensor<?x128xf32>
  %y2 = vgcu.mul %hx, %shift2 : (tensor<?x128xf32>, tensor<?x128xf32>) -> tensor<?x128xf32>
  return %y, %y2 : tensor<?x128xf32>, tensor<?x128xf32>
}
