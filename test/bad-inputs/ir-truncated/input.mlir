func.func @f(%x: tensor<?x64xf32>) {
  %0 = vgcu.exp %x : tensor<?x64xf32>
  return
