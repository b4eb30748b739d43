

func.func @suendm_negative_dim_range(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'vgcu.sum' op dim -3 is out of range for rank 2}}
  %0 = vgcu.sum %x {dimstheta = array<i64: -3>} : tensor<?x64xf32> -> tensor<?xf32>
  return
}
J