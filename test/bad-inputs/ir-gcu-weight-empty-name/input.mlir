func.func @f() {
  %0 = gcu.weight "" : memref<64xf32>
  return
}
