module attributes {vgcu.architecture = "LlamaForCausalLM", vgcu.dtype = "F32", vgcu.kv_block_size = 64 : i64, vgcu.kv_layers = 2 : i64, vgcu.max_positions = 128 : i64, vgcu.tp = 1 : i64} {
  func.func private @prefill(memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) -> memref<?x250xf32>
  func.func private @decode(memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) -> memref<?x250xf32>
}
