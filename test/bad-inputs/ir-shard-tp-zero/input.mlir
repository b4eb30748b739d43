func.func @f() {
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 0, segments = [64], units = [64]>) : tensor<64xf32>
  return
}
