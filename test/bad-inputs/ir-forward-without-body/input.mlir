module {
  func.func private @forward(tensor<?xi64>, tensor<?xi64>) -> tensor<?x8xf32>
  func.func @compute_logits(%h: tensor<?x8xf32>) -> tensor<?x16xf32> {
    %w = vgcu.param "lm_head.weight" : tensor<16x8xf32>
    %l = vgcu.linear %h, %w : tensor<?x8xf32>, tensor<16x8xf32> -> tensor<?x16xf32>
    return %l : tensor<?x16xf32>
  }
}
