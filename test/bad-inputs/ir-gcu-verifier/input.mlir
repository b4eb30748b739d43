func.func @f(%x: memref<?x128xf32>) {
  %0 = gcu.slice_view %x {dim = 1 : i64, start = 72 : i64, end = 200 : i64} : memref<?x128xf32> -> memref<?x128xf32>
  return
}
