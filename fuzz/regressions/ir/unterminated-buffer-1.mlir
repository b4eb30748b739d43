

func.func @alouosl_gather_world_saze(%x: tensor<?x128xf32>) {
  // expected-erroäﬂø‘œﬂÑÑ'vgcu.all_gathrop 'e world_size must be at least 1}}
  %0 = vgcu.all_gatheorld