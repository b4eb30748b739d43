module attributes {vgcu.architecture = "LlamaForCausalLM", vgcu.dtype = "F32", vgcu.kv_block_size = 64 : i64, vgcu.kv_layers = 2 : i64, vgcu.max_positions = 128 : i64, vgcu.tp = 1 : i64} {
  func.func @prefill(%ids: memref<?xi64>, %pos: memref<?xi64>, %slots: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %blocks: memref<?x?xi64>) -> memref<?x250xf32> {
    %t = gcu.dim %ids, 0 : memref<?xi64>
    %s = gcu.dim %lens, 0 : memref<?xi64>
    %table = gcu.weight "model.embed_tokens.weight" : memref<250x64xf32>
    gcu.unary neg ins(%table : memref<250x64xf32>) outs(%table : memref<250x64xf32>)
    %h = gcu.alloc(%t) : memref<?x64xf32>
    gcu.embedding ins(%ids, %table : memref<?xi64>, memref<250x64xf32>) outs(%h : memref<?x64xf32>)
    %last = gcu.last_token_view %h, %qsl : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf32>
    %head = gcu.weight "lm_head.weight" : memref<250x64xf32>
    %logits = gcu.alloc(%s) : memref<?x250xf32>
    gcu.gemm ins(%last, %head : memref<?x64xf32>, memref<250x64xf32>) outs(%logits : memref<?x250xf32>)
    return %logits : memref<?x250xf32>
  }
  func.func @decode(%ids: memref<?xi64>, %pos: memref<?xi64>, %slots: memref<?xi64>, %qsl: memref<?xi64>, %lens: memref<?xi64>, %blocks: memref<?x?xi64>) -> memref<?x250xf32> {
    %t = gcu.dim %ids, 0 : memref<?xi64>
    %s = gcu.dim %lens, 0 : memref<?xi64>
    %table = gcu.weight "model.embed_tokens.weight" : memref<250x64xf32>
    gcu.unary neg ins(%table : memref<250x64xf32>) outs(%table : memref<250x64xf32>)
    %h = gcu.alloc(%t) : memref<?x64xf32>
    gcu.embedding ins(%ids, %table : memref<?xi64>, memref<250x64xf32>) outs(%h : memref<?x64xf32>)
    %last = gcu.last_token_view %h, %qsl : memref<?x64xf32>, memref<?xi64> -> memref<?x64xf32>
    %head = gcu.weight "lm_head.weight" : memref<250x64xf32>
    %logits = gcu.alloc(%s) : memref<?x250xf32>
    gcu.gemm ins(%last, %head : memref<?x64xf32>, memref<250x64xf32>) outs(%logits : memref<?x250xf32>)
    return %logits : memref<?x250xf32>
  }
}
