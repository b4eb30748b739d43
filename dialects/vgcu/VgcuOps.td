//===- VgcuOps.td - Operations of the vgcu graph dialect ---------------*- tablegen -*-===//

#ifndef VGCU_OPS_TD
#define VGCU_OPS_TD

include "dialects/vgcu/VgcuBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "dialects/CommonAttrs.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Vgcu_ParamOp : Vgcu_Op<"param", [Pure]> {
  let summary = "a named model weight";
  let description = [{
    A weight of the model, named by the module prefix it belongs to, as vLLM names
    parameters (`model.layers.0.self_attn.qkv_proj.weight`). Weight loading fills it from the
    checkpoint by that name. After tensor-parallel sharding, `shard` says how this rank's
    slice is cut from the whole tensor; the result type is the slice's shape.

    ```mlir
    %w = vgcu.param "model.norm.weight" : tensor<4096xf32>
    %q = vgcu.param "model.layers.0.self_attn.qkv_proj.weight"
           shard(#vgcu.shard<dim = 0, tp = 2, segments = [64, 32, 32], units = [4, 2, 2]>)
           : tensor<64x64xf32>
    ```

    A parameter `computed_by` a function is not in the checkpoint: it is what that function
    (no arguments, checkpoint parameters and constants inside, see `vgcu-fold-weights`)
    returns, evaluated once when the artifact is written (Gemma's `1 + w` norm weights, a
    scaled embedding table).

    ```mlir
    %w = vgcu.param "model.norm.weight.folded" computed_by @fold.model.norm.weight
           : tensor<4096xf32>
    ```

    A parameter with `quant` is stored quantized (see `#vgcu.quant`); its type is still the
    weight's logical shape and compute type, so packing, sharding and shape inference treat
    it as any weight. Only linears read it (a quantized linear is a linear over a quantized
    parameter), and sharding cuts it on block boundaries.

    ```mlir
    %w = vgcu.param "model.layers.0.mlp.down_proj.weight"
           quant(#vgcu.quant<codes = uint4, block_cols = 128, zero_point = true>)
           : tensor<4096x11008xf16>
    ```
  }];
  let arguments = (ins StrAttr:$name, OptionalAttr<Vgcu_ShardAttr>:$shard,
                       OptionalAttr<FlatSymbolRefAttr>:$computed_by,
                       OptionalAttr<Vgcu_QuantAttr>:$quant);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $name (`shard` `(` $shard^ `)`)? (`computed_by` $computed_by^)?
    (`quant` `(` $quant^ `)`)? attr-dict `:` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Module-level operations (what vLLM model code calls)
//===----------------------------------------------------------------------===//

def Vgcu_LinearOp : Vgcu_Op<"linear",
    [Pure, AttrSizedOperandSegments, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "y = epilogue(x · Wᵀ (+ b)) (+ residual), optionally several projections packed";
  let description = [{
    A linear layer with the weight in PyTorch's `[out_features, in_features]` layout. When
    several projections share the input they are packed into one (`qkv_proj` from q/k/v,
    `gate_up_proj` from gate/up): `packed_modules` names the checkpoint modules in order and
    `packed_sizes` gives each one's output width, which weight loading and sharding use.
    `first_rank_bias` marks a row-parallel linear whose output is a partial sum: only the
    first tensor-parallel rank adds the bias, so the all-reduce that follows adds it once.

    `epilogue` (set by `vgcu-fuse-gemm-epilogue`) applies an activation to the product before
    it is stored; the gated ones (`silu_and_mul`, ...) halve the width. `residual`, when
    given, is added next (a residual connection folded into the GEMM), and `soft_cap`, when
    set, bounds the result last as `vgcu.soft_cap` does (Gemma 2's logits).

    ```mlir
    %y = vgcu.linear %x, %w, %b {packed_modules = ["q_proj", "k_proj", "v_proj"],
                                 packed_sizes = array<i64: 64, 32, 32>}
         : tensor<?x64xf32>, tensor<128x64xf32>, tensor<128xf32> -> tensor<?x128xf32>
    %h = vgcu.linear %x, %gu epilogue silu_and_mul
         : tensor<?x64xf32>, tensor<256x64xf32> -> tensor<?x128xf32>
    %z = vgcu.linear %h, %down residual(%x : tensor<?x64xf32>)
         : tensor<?x128xf32>, tensor<64x128xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$weight,
                       Optional<Vgcu_FloatTensor>:$bias,
                       Optional<Vgcu_FloatTensor>:$residual,
                       OptionalAttr<StrArrayAttr>:$packed_modules,
                       OptionalAttr<DenseI64ArrayAttr>:$packed_sizes,
                       DefaultValuedProp<EnumProp<EpilogueEnum>, "::vgcu::Epilogue::none">:$epilogue,
                       UnitAttr:$first_rank_bias,
                       OptionalAttr<PositiveF64Attr>:$soft_cap);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`residual` `(` $residual^ `:` type($residual) `)`)?
    (`epilogue` $epilogue^)? attr-dict `:` type($input) `,` type($weight)
    (`,` type($bias)^)? `->` type($result)
  }];
  let builders = [
    // The plain projection: the result type is inferred.
    OpBuilder<(ins "mlir::Value":$input, "mlir::Value":$weight, "mlir::Value":$bias), [{
      build($_builder, $_state, input, weight, bias, /*residual=*/mlir::Value(),
            /*packed_modules=*/nullptr, /*packed_sizes=*/nullptr, ::vgcu::Epilogue::none,
            /*first_rank_bias=*/false, /*soft_cap=*/nullptr);
    }]>
  ];
  let hasVerifier = 1;
}

def Vgcu_EmbeddingOp : Vgcu_Op<"embedding", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "rows of an embedding table selected by token ids";
  let description = [{
    `result[t] = table[ids[t]]`. With `vocab_parallel`, the table is this rank's shard of
    the vocabulary (rank r holds rows `[r * rows, (r + 1) * rows)` of the padded table): ids
    outside the shard give zero rows, and an all-reduce across ranks completes the lookup.

    ```mlir
    %h = vgcu.embedding %ids, %table : tensor<?xi64>, tensor<32000x4096xf32> -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_IndexTensor:$ids, Vgcu_FloatTensor:$table,
                       UnitAttr:$vocab_parallel);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $ids `,` $table attr-dict `:` type($ids) `,` type($table) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vgcu_RmsNormOp : Vgcu_Op<"rms_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `y = x / sqrt(mean(x², -1) + epsilon) · weight`, computed in f32 and rounded to the input
    type once, as Hugging Face's LlamaRMSNorm does.

    ```mlir
    %y = vgcu.rms_norm %x, %w {epsilon = 1.0e-05 : f64} : tensor<?x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$weight, PositiveF64Attr:$epsilon);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight)";
  let builders = [
    OpBuilder<(ins "mlir::Value":$input, "mlir::Value":$weight, "double":$epsilon), [{
      build($_builder, $_state, input.getType(), input, weight,
            $_builder.getF64FloatAttr(epsilon));
    }]>
  ];
  let hasVerifier = 1;
}

def Vgcu_AddRmsNormOp : Vgcu_Op<"add_rms_norm",
    [Pure, AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "residual add followed by RMSNorm (vLLM's fused_add_rms_norm)";
  let description = [{
    `sum = input + residual; normed = rms_norm(sum, weight)`. Both results are produced: the
    normalized value feeds the next module and the sum is the new residual stream.

    ```mlir
    %normed, %sum = vgcu.add_rms_norm %x, %res, %w {epsilon = 1.0e-05 : f64}
                    : tensor<?x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$weight, PositiveF64Attr:$epsilon);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $weight attr-dict `:` type($input) `,` type($weight)
  }];
  let builders = [
    OpBuilder<(ins "mlir::Value":$input, "mlir::Value":$residual, "mlir::Value":$weight,
                   "double":$epsilon), [{
      build($_builder, $_state, input.getType(), input.getType(), input, residual, weight,
            $_builder.getF64FloatAttr(epsilon));
    }]>
  ];
  let hasVerifier = 1;
}

def Vgcu_AllReduceAddRmsNormOp : Vgcu_Op<"all_reduce_add_rms_norm",
    [AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "all-reduce of a partial sum, residual add and RMSNorm in one op";
  let description = [{
    `full = all_reduce(input); sum = full + residual; normed = rms_norm(sum, weight)`: the
    end of a row-parallel projection and the next norm, so that a tensor-parallel decoder
    layer launches no more kernels than a single-device one.

    ```mlir
    %normed, %sum = vgcu.all_reduce_add_rms_norm %partial, %res, %w {epsilon = 1.0e-05 : f64}
                    : tensor<?x4096xf32>, tensor<4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$weight, PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $weight (`group` $group^)? attr-dict `:` type($input) `,`
    type($weight)
  }];
  let hasVerifier = 1;
}

def Vgcu_NormAddNormOp : Vgcu_Op<"norm_add_norm",
    [Pure, AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "RMSNorm of a block's output, residual add and the next RMSNorm (Gemma 2)";
  let description = [{
    `sum = residual + rms_norm(input, post_weight); normed = rms_norm(sum, weight)`: the
    norm that closes a Gemma 2 block (post-attention or post-feed-forward), the residual
    add and the norm that opens the next block, as one op. Each norm follows `vgcu.rms_norm`
    (a weight may be f32 over a narrower input).

    ```mlir
    %normed, %sum = vgcu.norm_add_norm %o, %res, %w_post, %w_pre
                      {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
                    : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$post_weight, Vgcu_FloatTensor:$weight,
                       PositiveF64Attr:$post_epsilon, PositiveF64Attr:$epsilon);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $post_weight `,` $weight attr-dict `:` type($input) `,`
    type($post_weight) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Vgcu_AllReduceNormAddNormOp : Vgcu_Op<"all_reduce_norm_add_norm",
    [AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "all-reduce of a partial output, then vgcu.norm_add_norm, as one op";
  let description = [{
    `full = all_reduce(input)`, then `vgcu.norm_add_norm` of `full`: the end of a
    row-parallel projection of Gemma 2 and its sandwich norms in one launch.

    ```mlir
    %normed, %sum = vgcu.all_reduce_norm_add_norm %partial, %res, %w_post, %w_pre
                      {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
                    : tensor<?x64xbf16>, tensor<64xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$post_weight, Vgcu_FloatTensor:$weight,
                       PositiveF64Attr:$post_epsilon, PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $post_weight `,` $weight (`group` $group^)? attr-dict `:`
    type($input) `,`    type($post_weight) `,` type($weight)
  }];
  let hasVerifier = 1;
}

def Vgcu_SoftCapOp : Vgcu_Op<"soft_cap", [Pure, SameOperandsAndResultType]> {
  let summary = "tanh soft-capping: cap · tanh(x / cap)";
  let description = [{
    Bounds values smoothly to (-cap, cap), in the input's dtype (Gemma 2's final logits).
    `vgcu-fuse-gemm-epilogue` puts it into the epilogue of the linear that produces `x`.

    ```mlir
    %y = vgcu.soft_cap %logits {cap = 3.0e+01 : f64} : tensor<?x256000xbf16>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, PositiveF64Attr:$cap);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Vgcu_LayerNormOp : Vgcu_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "LayerNorm over the last dimension";
  let description = [{
    `y = (x - mean(x)) / sqrt(var(x) + epsilon) · weight + bias` over the last dimension.

    ```mlir
    %y = vgcu.layer_norm %x, %w, %b {epsilon = 1.0e-05 : f64}
         : tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$weight,
                       Vgcu_FloatTensor:$bias, PositiveF64Attr:$epsilon);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight) `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Vgcu_AddLayerNormOp : Vgcu_Op<"add_layer_norm",
    [Pure, AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "residual add followed by LayerNorm";
  let description = [{
    `sum = input + residual; normed = layer_norm(sum, weight, bias)`: add_rms_norm for models
    normalized with LayerNorm (OPT), so that their residual adds fuse the same way.

    ```mlir
    %normed, %sum = vgcu.add_layer_norm %x, %res, %w, %b {epsilon = 1.0e-05 : f64}
                    : tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$weight, Vgcu_FloatTensor:$bias, PositiveF64Attr:$epsilon);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight) `,`
    type($bias)
  }];
  let hasVerifier = 1;
}

def Vgcu_AllReduceAddLayerNormOp : Vgcu_Op<"all_reduce_add_layer_norm",
    [AllTypesMatch<["input", "residual", "normed", "sum"]>]> {
  let summary = "all-reduce of a partial sum, residual add and LayerNorm in one op";
  let description = [{
    `full = all_reduce(input); sum = full + residual; normed = layer_norm(sum, weight, bias)`:
    all_reduce_add_rms_norm for LayerNorm models.

    ```mlir
    %normed, %sum = vgcu.all_reduce_add_layer_norm %partial, %res, %w, %b
                    {epsilon = 1.0e-05 : f64}
                    : tensor<?x768xf32>, tensor<768xf32>, tensor<768xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$residual,
                       Vgcu_FloatTensor:$weight, Vgcu_FloatTensor:$bias, PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let results = (outs Vgcu_FloatTensor:$normed, Vgcu_FloatTensor:$sum);
  let assemblyFormat = [{
    $input `,` $residual `,` $weight `,` $bias (`group` $group^)? attr-dict `:` type($input) `,`
    type($weight) `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Vgcu_RotaryEmbeddingOp : Vgcu_Op<"rotary_embedding",
    [Pure, AllTypesMatch<["query", "query_out"]>, AllTypesMatch<["key", "key_out"]>]> {
  let summary = "rotary position embedding applied to queries and keys";
  let description = [{
    Rotates the first `rotary_dim` channels of every `head_dim`-wide head of `query` and
    `key` by angles `position · theta^(-2i/rotary_dim)`, or by the frequencies
    `rope_scaling` derives (`#vgcu.rope`, Hugging Face's rope_scaling). `style` says how
    channels pair up: `neox` pairs channel i with i + rotary_dim/2 (rotate_half), `gptj`
    pairs 2i with 2i + 1.

    ```mlir
    %q2, %k2 = vgcu.rotary_embedding %pos, %q, %k neox {head_dim = 128 : i64,
                 rotary_dim = 128 : i64, theta = 1.0e+04 : f64}
               : tensor<?xi64>, tensor<?x4096xf32>, tensor<?x1024xf32>
    ```
  }];
  let arguments = (ins Vgcu_IndexTensor:$positions, Vgcu_FloatTensor:$query,
                       Vgcu_FloatTensor:$key, EnumProp<RotaryStyleEnum>:$style,
                       PositiveI64Attr:$head_dim, PositiveI64Attr:$rotary_dim,
                       PositiveF64Attr:$theta,
                       OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling);
  let results = (outs Vgcu_FloatTensor:$query_out, Vgcu_FloatTensor:$key_out);
  let assemblyFormat = [{
    $positions `,` $query `,` $key $style attr-dict `:` type($positions) `,` type($query)
    `,` type($key)
  }];
  let hasVerifier = 1;
}

def Vgcu_AttentionOp : Vgcu_Op<"attention", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "multi-head attention with grouped KV heads";
  let description = [{
    `softmax(q · kᵀ · scale + mask) · v` per head over the tokens of the sequence, with
    `num_heads / num_kv_heads` query heads sharing each KV head. `causal` masks keys after
    the query; `sliding_window` (when set) also masks keys `sliding_window` or more
    positions behind it; `softcap` (when set) bounds the scaled scores to
    `softcap · tanh(s / softcap)` before the mask (Gemma 2). q, k and v are
    `[tokens, heads × head_dim]`.

    ```mlir
    %o = vgcu.attention %q, %k, %v {num_heads = 32 : i64, num_kv_heads = 8 : i64,
           head_dim = 128 : i64, scale = 0.088388 : f64, causal}
         : tensor<?x4096xf32>, tensor<?x1024xf32>, tensor<?x1024xf32> -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$query, Vgcu_FloatTensor:$key, Vgcu_FloatTensor:$value,
                       PositiveI64Attr:$num_heads, PositiveI64Attr:$num_kv_heads,
                       PositiveI64Attr:$head_dim, PositiveF64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<PositiveI64Attr>:$sliding_window,
                       OptionalAttr<PositiveF64Attr>:$softcap);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vgcu_SiluAndMulOp : Vgcu_Op<"silu_and_mul", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "silu(first half) × second half of the last dimension";
  let description = [{
    The gated MLP activation on a packed gate_up projection: with `x = [a, b]` split in
    halves along the last dimension, `y = silu(a) · b`.

    ```mlir
    %y = vgcu.silu_and_mul %gu : tensor<?x22016xf32> -> tensor<?x11008xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vgcu_GeluAndMulOp : Vgcu_Op<"gelu_and_mul", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "gelu(first half) × second half of the last dimension";
  let description = [{
    As `silu_and_mul` with GELU (`approximate` selects erf or tanh).

    ```mlir
    %y = vgcu.gelu_and_mul %gu tanh : tensor<?x512xf32> -> tensor<?x256xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, EnumProp<GeluApproximationEnum>:$approximate);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input $approximate attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vgcu_AllReduceOp : Vgcu_Op<"all_reduce", [SameOperandsAndResultType]> {
  let summary = "sum across the tensor-parallel ranks";
  let description = [{
    Every rank contributes its tensor and receives the elementwise sum over the ranks of
    `group`: the tensor-parallel ranks (the default), or every rank (`group expert`), which
    a mixture-of-experts layer whose experts are split over expert-parallel ranks needs.

    ```mlir
    %s = vgcu.all_reduce %partial : tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input,
                       CollectiveGroupProp:$group);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input (`group` $group^)? attr-dict `:` type($input)";
}

def Vgcu_AllGatherOp : Vgcu_Op<"all_gather", [InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "concatenation of every rank's tensor along a dimension";
  let description = [{
    Rank slices of size `n` along `dim` are gathered, in rank order, into a tensor of size
    `n × world_size` along `dim` on every rank.

    ```mlir
    %l = vgcu.all_gather %local {dim = 1 : i64, world_size = 2 : i64}
         : tensor<?x16000xf32> -> tensor<?x32000xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, SignedI64Attr:$dim, PositiveI64Attr:$world_size);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vgcu_RotaryAttentionOp : Vgcu_Op<"rotary_attention",
    [Pure, AttrSizedOperandSegments, AllTypesMatch<["query", "result"]>]> {
  let summary = "per-head q/k RMSNorm (optional), rotary embedding and attention as one op";
  let description = [{
    `attention(rotary(norm(q)), rotary(norm(k)), v)`: what vLLM's attention backends run
    around the KV-cache write, and what `vgcu-fuse-rotary-attention` makes of a
    `vgcu.rotary_embedding` whose only users are one `vgcu.attention` (and of Qwen3's
    per-head norms before it). It lowers to one `gcu.fused_rope_cache_attention` launch.
    The rotary and attention attributes mean what they mean on `vgcu.rotary_embedding` and
    `vgcu.attention`; `q_norm_weight` and `k_norm_weight` (of length head_dim, with
    `norm_epsilon`) are given together or not at all.

    ```mlir
    %o = vgcu.rotary_attention %pos, %q, %k, %v neox {num_heads = 4 : i64,
           num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, causal,
           rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
         : tensor<?xi64>, tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32> -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_IndexTensor:$positions, Vgcu_FloatTensor:$query,
                       Vgcu_FloatTensor:$key, Vgcu_FloatTensor:$value,
                       Optional<Vgcu_FloatTensor>:$q_norm_weight,
                       Optional<Vgcu_FloatTensor>:$k_norm_weight,
                       PositiveI64Attr:$num_heads, PositiveI64Attr:$num_kv_heads,
                       PositiveI64Attr:$head_dim, PositiveF64Attr:$scale, UnitAttr:$causal,
                       OptionalAttr<PositiveI64Attr>:$sliding_window,
                       OptionalAttr<PositiveF64Attr>:$softcap,
                       EnumProp<RotaryStyleEnum>:$style, PositiveI64Attr:$rotary_dim,
                       PositiveF64Attr:$theta, OptionalAttr<PositiveF64Attr>:$norm_epsilon,
                       OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $positions `,` $query `,` $key `,` $value
    (`qk_norm` `(` $q_norm_weight^ `,` $k_norm_weight `:` type($q_norm_weight) `,`
     type($k_norm_weight) `)`)?
    $style attr-dict `:` type($positions) `,` type($query) `,` type($key) `,` type($value)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vgcu_LastTokenOp : Vgcu_Op<"last_token", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "the row of each sequence's newest token";
  let description = [{
    Row `query_start_loc[s + 1] - 1` of `input` for each sequence `s` of a flattened batch:
    what vLLM's logits processor selects before the LM head, since only those rows pick the
    next tokens. `vgcu-lower-to-gcu` puts it between `@forward` and `@compute_logits`.

    ```mlir
    %last = vgcu.last_token %hidden, %qsl : tensor<?x4096xf32>, tensor<?xi64>
        -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input, RankedTensorOf<[I64]>:$query_start_loc);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $query_start_loc attr-dict `:` type($input) `,` type($query_start_loc) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Vgcu_MlaAttentionOp : Vgcu_Op<"mla_attention", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "multi-head latent attention (DeepSeek-V2/V3) over a latent KV cache";
  let description = [{
    `query` is `[T, H·(nope + rope)]` (each head's no-rotary part, then its rotary part),
    `latent` the normalized compressed KV `[T, kv_lora]` and `key_rope` the one rotary key
    shared by all heads `[T, rope]`. Both rotary parts are rotated in GPT-J pairs `(2i, 2i + 1)`
    with frequency `i` (DeepSeek's de-interleave then rotate_half, up to a permutation of the
    rotary channels that queries and keys share), with `theta` and `rope_scaling`. Head `h`'s
    key is `[latent · kv_bₕᵀ(nope rows), key_rope]` and its value `latent · kv_bₕᵀ(v rows)`, where
    `kv_b` is `[H·(nope + v), kv_lora]` (kv_b_proj's weight, per head its nope rows then its v
    rows). Causal attention with `scale`, softmax in f32; the result is `[T, H·v]`. What the
    cache keeps per token is `latent` and the rotated `key_rope`: `kv_lora + rope` values.

    ```mlir
    %o = vgcu.mla_attention %pos, %q, %c, %kpe, %kv_b {num_heads = 4 : i64,
            qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64, v_head_dim = 16 : i64,
            scale = 0.2 : f64, theta = 1.0e+04 : f64}
        : (tensor<?xi64>, tensor<?x96xf32>, tensor<?x32xf32>, tensor<?x8xf32>,
           tensor<128x32xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_IndexTensor:$positions, Vgcu_FloatTensor:$query,
                       Vgcu_FloatTensor:$latent, Vgcu_FloatTensor:$key_rope,
                       Vgcu_FloatTensor:$kv_b, PositiveI64Attr:$num_heads,
                       PositiveI64Attr:$qk_nope_head_dim, PositiveI64Attr:$qk_rope_head_dim,
                       PositiveI64Attr:$v_head_dim, PositiveF64Attr:$scale, PositiveF64Attr:$theta,
                       OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $positions `,` $query `,` $latent `,` $key_rope `,` $kv_b attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vgcu_MoeRouterOp : Vgcu_Op<"moe_router", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "mixture-of-experts routing: gate GEMM, scores, (group-limited) top-k";
  let description = [{
    `logits = x · gateᵀ` (in the model dtype, or in f32 from f32 copies with `route_in_f32`),
    scores `s = softmax(f32(logits))` (or `sigmoid`, `scoring sigmoid`), the `top_k` largest
    per token (ties to the lower expert) with their expert ids, divided by their sum when
    `renormalize` is set and multiplied by `scaling_factor` when given; rounded to the model
    dtype, or kept in f32 with `route_in_f32`. `gate` is `[num_experts, hidden]`: Hugging
    Face's MixtralSparseMoeBlock / Qwen2MoeSparseMoeBlock routing and DeepSeek's MoEGate.

    DeepSeek's group-limited routing: with `num_groups`, the experts form that many equal
    groups, each scored by its largest score (`group_score max`, V2) or the sum of its two
    largest (`top2_sum`, V3); the scores of experts outside the `topk_groups` best groups are
    set to 0 before the top-k. With a `correction_bias` `[num_experts]` (V3's
    `e_score_correction_bias`) the choice is made on `s + bias` and the weights are the
    chosen experts' unbiased `s`.

    ```mlir
    %w, %ids = vgcu.moe_router %x, %gate {top_k = 2 : i64, renormalize}
        : tensor<?x4096xbf16>, tensor<8x4096xbf16> -> tensor<?x2xbf16>, tensor<?x2xi64>
    %w3, %ids3 = vgcu.moe_router %x, %gate bias(%b : tensor<256xf32>) scoring sigmoid
        group_score top2_sum {top_k = 8 : i64, renormalize, num_groups = 8 : i64,
        topk_groups = 4 : i64, scaling_factor = 2.5 : f64, route_in_f32}
        : tensor<?x7168xbf16>, tensor<256x7168xbf16> -> tensor<?x8xf32>, tensor<?x8xi64>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$gate,
                       Optional<Vgcu_FloatTensor>:$correction_bias,
                       PositiveI64Attr:$top_k, UnitAttr:$renormalize,
                       MoeScoringProp:$scoring, MoeGroupScoreProp:$group_score,
                       OptionalAttr<PositiveI64Attr>:$num_groups,
                       OptionalAttr<PositiveI64Attr>:$topk_groups,
                       OptionalAttr<PositiveF64Attr>:$scaling_factor, UnitAttr:$route_in_f32);
  let results = (outs Vgcu_FloatTensor:$weights, Vgcu_IndexTensor:$ids);
  let assemblyFormat = [{
    $input `,` $gate (`bias` `(` $correction_bias^ `:` type($correction_bias) `)`)?
    (`scoring` $scoring^)? (`group_score` $group_score^)? attr-dict `:` type($input) `,`
    type($gate) `->` type($weights) `,` type($ids)
  }];
  let builders = [
    // Softmax top-k routing (Mixtral, Qwen-MoE).
    OpBuilder<(ins "mlir::Value":$input, "mlir::Value":$gate, "int64_t":$top_k,
                   "bool":$renormalize), [{
      build($_builder, $_state, input, gate, /*correction_bias=*/mlir::Value(),
            $_builder.getI64IntegerAttr(top_k),
            renormalize ? $_builder.getUnitAttr() : mlir::UnitAttr(),
            ::vgcu::MoeScoring::softmax, ::vgcu::MoeGroupScore::max, /*num_groups=*/nullptr,
            /*topk_groups=*/nullptr, /*scaling_factor=*/nullptr, /*route_in_f32=*/nullptr);
    }]>
  ];
  let hasVerifier = 1;
}

def Vgcu_MoeExpertsOp : Vgcu_Op<"moe_experts",
    [Pure, AttrSizedOperandSegments, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "the routed experts of a mixture-of-experts layer, weighted and summed";
  let description = [{
    `out[t] = Σ_j weights[t, j] · E_{ids[t, j]}(x[t])` with the SiLU-gated expert
    `E_e(x) = down_e(silu(gate_e(x)) · up_e(x))`, summed over experts in ascending order as
    Hugging Face's expert loop does. The experts' weights are stacked so the op's size does
    not depend on the number of experts: `gate_up` is `[num_experts · 2 · I, hidden]`
    (expert e's gate rows, then its up rows) and `down` is `[num_experts · hidden, I]`.
    `expert_modules` names the three projections as the checkpoint does (Mixtral's
    `w1`, `w3`, `w2`), so weight loading stacks `experts.<e>.<name>` into them; under tensor
    parallelism each rank holds a slice of every expert's intermediate dimension. With
    `shared` operands (Qwen2-MoE) a shared expert of the same form (`shared_gate_up`
    `[2·Is, hidden]`, `shared_down` `[hidden, Is]`) runs on every token, scaled by
    `sigmoid(x · shared_gateᵀ)` when there is a `shared_gate` `[1, hidden]` (Qwen2-MoE; the
    shared experts of DeepSeekMoE have none), and is added. Routing weights in f32 (DeepSeek)
    make the routed sum f32, rounded to the model dtype before the shared expert is added. With
    `expert_parallel = n` the experts are split over `n` expert-parallel ranks: a rank's
    `gate_up` and `down` stack only its `num_experts / n` consecutive experts (those of its
    expert-parallel index), its result sums only their contributions, and the shared expert
    belongs to expert-parallel index 0.

    ```mlir
    %y = vgcu.moe_experts %x, %w, %ids, %gate_up, %down {num_experts = 8 : i64,
                          expert_modules = ["w1", "w3", "w2"]}
        : (tensor<?x64xf32>, tensor<?x2xf32>, tensor<?x2xi64>, tensor<256x64xf32>,
           tensor<512x16xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, Vgcu_FloatTensor:$weights,
                       Vgcu_IndexTensor:$ids, Vgcu_FloatTensor:$gate_up,
                       Vgcu_FloatTensor:$down, Optional<Vgcu_FloatTensor>:$shared_gate_up,
                       Optional<Vgcu_FloatTensor>:$shared_down,
                       Optional<Vgcu_FloatTensor>:$shared_gate, PositiveI64Attr:$num_experts,
                       StrArrayAttr:$expert_modules,
                       OptionalAttr<PositiveI64Attr>:$expert_parallel);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weights `,` $ids `,` $gate_up `,` $down
    (`shared` `(` $shared_gate_up^ `,` $shared_down `)`)? (`shared_gate` `(` $shared_gate^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Primitive operations (what a traced PyTorch graph is made of)
//===----------------------------------------------------------------------===//

def Vgcu_ConstantOp : Vgcu_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "a constant tensor";
  let description = [{
    ```mlir
    %eps = vgcu.constant dense<1.0e-06> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$value attr-dict";
  let hasFolder = 1;
  let hasVerifier = 1;
}

class Vgcu_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Vgcu_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptorWithIsCompatible], traits)> {
  let arguments = (ins Vgcu_Tensor:$lhs, Vgcu_Tensor:$rhs);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let description = [{
    Elementwise with NumPy/PyTorch broadcasting; both operands have one element type.

    ```mlir
    %y = vgcu.}] # mnemonic # [{ %a, %b : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32>
    ```
  }];
}

def Vgcu_AddOp : Vgcu_BinaryOp<"add", [Commutative]> { let summary = "elementwise sum"; }
def Vgcu_SubOp : Vgcu_BinaryOp<"sub"> { let summary = "elementwise difference"; }
def Vgcu_MulOp : Vgcu_BinaryOp<"mul", [Commutative]> { let summary = "elementwise product"; }
def Vgcu_DivOp : Vgcu_BinaryOp<"div"> { let summary = "elementwise quotient"; }
def Vgcu_PowOp : Vgcu_BinaryOp<"pow"> { let summary = "elementwise power"; }
def Vgcu_MaximumOp : Vgcu_BinaryOp<"maximum", [Commutative]> {
  let summary = "elementwise maximum";
}
def Vgcu_OrOp : Vgcu_BinaryOp<"or", [Commutative]> {
  let summary = "elementwise logical or of boolean masks";
}

class Vgcu_UnaryOp<string mnemonic, string formula>
    : Vgcu_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let arguments = (ins Vgcu_Tensor:$input);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let summary = "elementwise " # formula;
  let description = [{
    `y = }] # formula # [{` elementwise.

    ```mlir
    %y = vgcu.}] # mnemonic # [{ %x : tensor<?x64xf32>
    ```
  }];
}

def Vgcu_NegOp : Vgcu_UnaryOp<"neg", "-x">;
def Vgcu_RsqrtOp : Vgcu_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Vgcu_SqrtOp : Vgcu_UnaryOp<"sqrt", "sqrt(x)">;
def Vgcu_ExpOp : Vgcu_UnaryOp<"exp", "exp(x)">;
def Vgcu_CosOp : Vgcu_UnaryOp<"cos", "cos(x)">;
def Vgcu_SinOp : Vgcu_UnaryOp<"sin", "sin(x)">;
def Vgcu_SigmoidOp : Vgcu_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Vgcu_TanhOp : Vgcu_UnaryOp<"tanh", "tanh(x)">;
def Vgcu_SiluOp : Vgcu_UnaryOp<"silu", "x · sigmoid(x)">;
def Vgcu_ReluOp : Vgcu_UnaryOp<"relu", "max(x, 0)">;

def Vgcu_GeluOp : Vgcu_Op<"gelu", [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise GELU";
  let description = [{
    ```mlir
    %y = vgcu.gelu %x none : tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, EnumProp<GeluApproximationEnum>:$approximate);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input $approximate attr-dict `:` type($input)";
}

def Vgcu_MatmulOp : Vgcu_Op<"matmul", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "matrix product with broadcast batch dimensions (torch.matmul)";
  let description = [{
    `[..., m, k] × [..., k, n] → [..., m, n]`, batch dimensions broadcast; a rank-2 rhs is
    shared by every batch.

    ```mlir
    %s = vgcu.matmul %q, %kt : tensor<4x?x16xf32>, tensor<4x16x?xf32> -> tensor<4x?x?xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$lhs, Vgcu_FloatTensor:$rhs);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)";
  let hasVerifier = 1;
}

class Vgcu_ReductionOp<string mnemonic, string what>
    : Vgcu_Op<mnemonic, [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = what # " over dimensions";
  let description = [{
    Reduces `dims` (negative counts from the end); `keepdim` keeps them with size 1.

    ```mlir
    %m = vgcu.}] # mnemonic # [{ %x {dims = array<i64: -1>, keepdim} : tensor<?x64xf32> -> tensor<?x1xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, DenseI64ArrayAttr:$dims, UnitAttr:$keepdim);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vgcu_MeanOp : Vgcu_ReductionOp<"mean", "arithmetic mean">;
def Vgcu_SumOp : Vgcu_ReductionOp<"sum", "sum">;

def Vgcu_SoftmaxOp : Vgcu_Op<"softmax", [Pure, SameOperandsAndResultType]> {
  let summary = "softmax along one dimension";
  let description = [{
    ```mlir
    %p = vgcu.softmax %s {dim = -1 : i64} : tensor<4x?x?xf32>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, SignedI64Attr:$dim);
  let results = (outs Vgcu_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Vgcu_TransposeOp : Vgcu_Op<"transpose", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "permutation of dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`.

    ```mlir
    %t = vgcu.transpose %x {permutation = array<i64: 1, 0, 2>}
         : tensor<?x4x16xf32> -> tensor<4x?x16xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Vgcu_ReshapeOp : Vgcu_Op<"reshape", [Pure]> {
  let summary = "same elements, new shape";
  let description = [{
    The dynamic token dimension may move between positions, but the product of the static
    dimensions must account for it.

    ```mlir
    %h = vgcu.reshape %x : tensor<?x64xf32> -> tensor<?x4x16xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Vgcu_BroadcastOp : Vgcu_Op<"broadcast", [Pure]> {
  let summary = "expand size-1 dimensions (torch expand)";
  let description = [{
    Every dimension of the input is either equal to the result's or 1; leading dimensions
    may be added.

    ```mlir
    %e = vgcu.broadcast %kv : tensor<2x1x?x16xf32> -> tensor<2x4x?x16xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vgcu_SliceOp : Vgcu_Op<"slice", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "a strided range of one dimension";
  let description = [{
    Elements `start, start + step, ... < end` of dimension `dim`.

    ```mlir
    %q = vgcu.slice %qkv {dim = 1 : i64, start = 0 : i64, end = 4096 : i64, step = 1 : i64}
         : tensor<?x6144xf32> -> tensor<?x4096xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input, SignedI64Attr:$dim, SignedI64Attr:$start, SignedI64Attr:$end,
                       DefaultValuedAttr<PositiveI64Attr, "1">:$step);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Vgcu_ConcatOp : Vgcu_Op<"concat", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "concatenation along one dimension";
  let description = [{
    ```mlir
    %c = vgcu.concat %a, %b {dim = 1 : i64}
         : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
    ```
  }];
  let arguments = (ins Variadic<Vgcu_Tensor>:$inputs, SignedI64Attr:$dim);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Vgcu_GatherOp : Vgcu_Op<"gather", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "select slices along a dimension by index (torch.index_select)";
  let description = [{
    `result` equals `input` with dimension `dim` replaced by the indexed entries.

    ```mlir
    %c = vgcu.gather %cos_table, %pos {dim = 0 : i64}
         : tensor<4096x128xf32>, tensor<?xi64> -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input, Vgcu_IndexTensor:$indices, SignedI64Attr:$dim);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` type($input) `,` type($indices) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vgcu_TopKOp : Vgcu_Op<"topk", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "the k largest entries of the last dimension and their indices (torch.topk)";
  let description = [{
    Sorted in descending order, ties to the lower index, as `torch.topk(x, k, dim=-1)`; the
    routing of a traced mixture of experts.

    ```mlir
    %w, %ids = vgcu.topk %probs {k = 2 : i64} : tensor<?x8xf32> -> tensor<?x2xf32>, tensor<?x2xi64>
    ```
  }];
  let arguments = (ins Vgcu_FloatTensor:$input, PositiveI64Attr:$k);
  let results = (outs Vgcu_FloatTensor:$values, Vgcu_IndexTensor:$indices);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($values) `,` type($indices)
  }];
  let hasVerifier = 1;
}

def Vgcu_ScatterOp : Vgcu_Op<"scatter", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "input with src written at the indices along a dimension (torch.scatter)";
  let description = [{
    `result = input`, then `result[i][index[i][j]] = src[i][j]` for `dim = 1` (and likewise
    for other dimensions): a traced mixture of experts spreads its top-k routing weights into
    a `[tokens, experts]` matrix this way. `index` and `src` have one shape.

    ```mlir
    %dense = vgcu.scatter %zeros, %ids, %w {dim = 1 : i64}
             : tensor<?x8xf32>, tensor<?x2xi64>, tensor<?x2xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input, Vgcu_IndexTensor:$index, Vgcu_Tensor:$src,
                       SignedI64Attr:$dim);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $index `,` $src attr-dict `:` type($input) `,` type($index) `,` type($src)
  }];
  let hasVerifier = 1;
}

def Vgcu_CompareOp : Vgcu_Op<"compare", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "elementwise comparison giving a boolean mask";
  let description = [{
    Broadcasting comparison; the causal mask of a traced model compares key positions with
    query positions.

    ```mlir
    %m = vgcu.compare gt, %kpos, %qpos : (tensor<1x?xi64>, tensor<?x1xi64>) -> tensor<?x?xi1>
    ```
  }];
  let arguments = (ins EnumProp<Vgcu_ComparePredicate>:$predicate, Vgcu_Tensor:$lhs, Vgcu_Tensor:$rhs);
  let results = (outs RankedTensorOf<[I1]>:$result);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vgcu_WhereOp : Vgcu_Op<"where", [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let summary = "elementwise select (torch.where, masked_fill)";
  let description = [{
    `result = condition ? on_true : on_false` with broadcasting. `masked_fill(x, m, v)` is
    `where(m, v, x)`.

    ```mlir
    %s = vgcu.where %mask, %ninf, %scores
         : (tensor<?x?xi1>, tensor<f32>, tensor<4x?x?xf32>) -> tensor<4x?x?xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I1]>:$condition, Vgcu_Tensor:$on_true,
                       Vgcu_Tensor:$on_false);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Vgcu_CastOp : Vgcu_Op<"cast", [Pure]> {
  let summary = "element type conversion";
  let description = [{
    ```mlir
    %f = vgcu.cast %x : tensor<?x64xbf16> to tensor<?x64xf32>
    ```
  }];
  let arguments = (ins Vgcu_Tensor:$input);
  let results = (outs Vgcu_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // VGCU_OPS_TD
