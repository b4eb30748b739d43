func.func @f() {
  %0 = vgcu.param "w" shard(#vgcu.shard<dim = 0, tp = 4, segments = [96], units = [6]>) : tensor<16xf32>
  return
}
