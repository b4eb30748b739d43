func.func @f() {
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 2>) : tensor<64xf32>
  return
}
