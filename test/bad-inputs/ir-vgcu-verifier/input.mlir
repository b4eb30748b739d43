func.func @f(%x: tensor<?x32xf32>, %w: tensor<128x64xf32>) {
  %0 = vgcu.linear %x, %w : tensor<?x32xf32>, tensor<128x64xf32> -> tensor<?x128xf32>
  return
}
