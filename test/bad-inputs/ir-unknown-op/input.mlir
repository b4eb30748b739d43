func.func @f(%x: tensor<?x64xf32>) {
  %0 = vgcu.frobnicate %x : tensor<?x64xf32>
  return
}
