//===- GcuOps.td - The gcu kernel-call dialect ------------------------*- tablegen -*-===//

#ifndef GCU_OPS_TD
#define GCU_OPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/CommonAttrConstraints.td"
include "dialects/CommonAttrs.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Gcu_Dialect : Dialect {
  let name = "gcu";
  let cppNamespace = "::gcu";
  let dependentDialects = ["::vgcu::VgcuDialect"];
  let summary = "Kernel launches on buffers, one op per launch";
  let description = [{
    A `gcu` program is what a GCU executes: every operation that implements
    `KernelLaunchOpInterface` is one launch of a kernel-library entry (topsvllm / topsaten /
    ECCL on GCU hardware, the ATen reference library on a CPU), reading and writing buffers
    (`memref`s) in place. The remaining operations name weights, allocate or view buffers and
    launch nothing. Counting launch operations per decoder layer is vgcu's fusion score.
  }];
}

def Gcu_KernelLaunchOpInterface : OpInterface<"KernelLaunchOpInterface"> {
  let cppNamespace = "::gcu";
  let description = [{
    An operation that is one kernel launch. `getHardwareEntry` names the kernel-library
    entry it calls on GCU hardware (documented in docs/kernels.md).
  }];
  let methods = [
    InterfaceMethod<"The kernel-library entry this launch calls on GCU hardware.",
                    "::llvm::StringRef", "getHardwareEntry">
  ];
}

class Gcu_Op<string mnemonic, list<Trait> traits = []>
    : Op<Gcu_Dialect, mnemonic, traits>;

/// A kernel launch whose hardware entry does not depend on its attributes.
class Gcu_KernelOp<string mnemonic, string entry, list<Trait> traits = []>
    : Gcu_Op<mnemonic, !listconcat([DeclareOpInterfaceMethods<Gcu_KernelLaunchOpInterface>],
                                   traits)> {
  string hardwareEntry = entry;
  let extraClassDefinition = [{
    ::llvm::StringRef $cppClass::getHardwareEntry() { return "}] # entry # [{"; }
  }];
  let hasVerifier = 1;
}

include "dialects/common/CommonEnums.td"
include "dialects/gcu/GcuEnums.td"
// #vgcu.rope: the rotary kernels carry the graph's rope scaling as it is.
include "dialects/vgcu/VgcuBase.td"

def Gcu_Buffer : MemRefOf<[F32, F16, BF16, I1, I32, I64]>;
def Gcu_FloatBuffer : MemRefOf<[F32, F16, BF16]>;
def Gcu_IndexBuffer : MemRefOf<[I32, I64]>;
// A paged cache holds activations, or int8 / FP8 E4M3 codes with a scale per token and head.
def Gcu_CacheBuffer : MemRefOf<[F32, F16, BF16, I8, F8E4M3FN]>;
def Gcu_CacheScaleBuffer : MemRefOf<[F32]>;
// What the artifact stores: float weights, and a quantized weight's codes (i8) and group
// indices (i32).
def Gcu_WeightBuffer : MemRefOf<[F32, F16, BF16, I8, I32]>;

//===----------------------------------------------------------------------===//
// Buffers and views (no launch)
//===----------------------------------------------------------------------===//

def Gcu_WeightOp : Gcu_Op<"weight", [Pure]> {
  let summary = "a weight buffer of this rank, loaded from the artifact";
  let description = [{
    ```mlir
    %w = gcu.weight "model.layers.0.self_attn.qkv_proj.weight" : memref<128x64xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Gcu_WeightBuffer:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Gcu_ConstantOp : Gcu_Op<"constant", [Pure]> {
  let summary = "a constant buffer";
  let description = [{
    ```mlir
    %c = gcu.constant dense<2> : tensor<i64> -> memref<i64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "$value attr-dict `->` type($result)";
  let hasVerifier = 1;
}

def Gcu_DimOp : Gcu_Op<"dim", [Pure]> {
  let summary = "the run-time size of one buffer dimension";
  let description = [{
    ```mlir
    %tokens = gcu.dim %input_ids, 0 : memref<?xi64>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source, SignedI64Attr:$index);
  let results = (outs Index:$result);
  let assemblyFormat = "$source `,` $index attr-dict `:` type($source)";
  let hasVerifier = 1;
}

def Gcu_AllocOp : Gcu_Op<"alloc", [MemoryEffects<[MemAlloc]>]> {
  let summary = "a new buffer";
  let description = [{
    One size operand per dynamic dimension. After `vgcu-plan-buffers`, `slot` names the
    arena slot the buffer lives in: buffers whose lifetimes do not overlap share a slot.

    ```mlir
    %b = gcu.alloc(%tokens) {slot = 3 : i64} : memref<?x4096xf32>
    ```
  }];
  let arguments = (ins Variadic<Index>:$dynamic_sizes, OptionalAttr<SignedI64Attr>:$slot);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "`(` $dynamic_sizes `)` attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Gcu_KvCacheOp : Gcu_Op<"kv_cache", [Pure]> {
  let summary = "the paged key and value caches of one attention layer";
  let description = [{
    Both caches are `[blocks, block_size, kv_heads, head_dim]`; the runtime owns them and
    decides the number of blocks. They usually have one type; multi-head latent attention
    keeps the latent in the key cache and the rotary key in the value cache, of different
    widths (the type is then written twice). A quantized cache (`i8` or `f8E4M3FN` codes) has
    its scales in `gcu.kv_cache_scales` of the same layer.

    ```mlir
    %kc, %vc = gcu.kv_cache {layer = 0 : i64} : memref<?x64x2x16xf32>
    %lc, %rc = gcu.kv_cache {layer = 1 : i64} : memref<?x64x1x512xbf16>, memref<?x64x1x64xbf16>
    %qk, %qv = gcu.kv_cache {layer = 2 : i64} : memref<?x64x2x16xi8>
    ```
  }];
  let arguments = (ins SignedI64Attr:$layer);
  let results = (outs Gcu_CacheBuffer:$key_cache, Gcu_CacheBuffer:$value_cache);
  let assemblyFormat = "attr-dict `:` custom<CacheTypes>(type($key_cache), type($value_cache))";
  let hasVerifier = 1;
}

def Gcu_KvCacheScalesOp
    : Gcu_Op<"kv_cache_scales", [Pure, AllTypesMatch<["key_scales", "value_scales"]>]> {
  let summary = "the scales of one layer's quantized key and value caches";
  let description = [{
    `[blocks, block_size, kv_heads]` in f32: the scale of every cached key (value) vector,
    chosen when it is written as its largest magnitude over the largest code (127 for int8,
    448 for FP8 E4M3), so a cached vector reads back as code × scale.

    ```mlir
    %ks, %vs = gcu.kv_cache_scales {layer = 2 : i64} : memref<?x64x2xf32>
    ```
  }];
  let arguments = (ins SignedI64Attr:$layer);
  let results = (outs Gcu_CacheScaleBuffer:$key_scales, Gcu_CacheScaleBuffer:$value_scales);
  let assemblyFormat = "attr-dict `:` type($key_scales)";
  let builders = [OpBuilder<(ins "::mlir::Type":$type, "int64_t":$layer), [{
    build($_builder, $_state, type, type, layer);
  }]>];
  let hasVerifier = 1;
}

def Gcu_SliceViewOp : Gcu_Op<"slice_view", [Pure]> {
  let summary = "a view of a range of one dimension (no copy)";
  let description = [{
    ```mlir
    %q = gcu.slice_view %qkv {dim = 1 : i64, start = 0 : i64, end = 64 : i64}
         : memref<?x128xf32> -> memref<?x64xf32>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source, SignedI64Attr:$dim, SignedI64Attr:$start, SignedI64Attr:$end,
                       DefaultValuedAttr<SignedI64Attr, "1">:$step);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def Gcu_LastTokenViewOp : Gcu_Op<"last_token_view", [Pure]> {
  let summary = "the rows of each sequence's newest token";
  let description = [{
    Row `query_start_loc[s + 1] - 1` for every sequence `s` of the batch: the rows the LM
    head reads. No kernel of its own: the next kernel reads its input rows through these
    indices (the CPU runtime gathers them).

    ```mlir
    %last = gcu.last_token_view %hidden, %qsl : memref<?x64xf32>, memref<?xi64>
        -> memref<?x64xf32>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source, Gcu_IndexBuffer:$query_start_loc);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = [{
    $source `,` $query_start_loc attr-dict `:` type($source) `,` type($query_start_loc) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Gcu_ReshapeViewOp : Gcu_Op<"reshape_view", [Pure]> {
  let summary = "the same elements seen with another shape (no copy)";
  let description = [{
    ```mlir
    %h = gcu.reshape_view %q : memref<?x64xf32> -> memref<?x4x16xf32>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def Gcu_TransposeViewOp : Gcu_Op<"transpose_view", [Pure]> {
  let summary = "the same elements with permuted dimensions (no copy)";
  let description = [{
    ```mlir
    %t = gcu.transpose_view %h {permutation = array<i64: 1, 0, 2>}
         : memref<?x4x16xf32> -> memref<4x?x16xf32>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source, DenseI64ArrayAttr:$permutation);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

def Gcu_BroadcastViewOp : Gcu_Op<"broadcast_view", [Pure]> {
  let summary = "size-1 dimensions repeated without copying (stride 0)";
  let description = [{
    ```mlir
    %e = gcu.broadcast_view %kv : memref<2x1x?x16xf32> -> memref<2x4x?x16xf32>
    ```
  }];
  let arguments = (ins Gcu_Buffer:$source);
  let results = (outs Gcu_Buffer:$result);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel launches
//===----------------------------------------------------------------------===//

def Gcu_EmbeddingOp : Gcu_KernelOp<"embedding", "topsatenEmbedding"> {
  let summary = "embedding lookup";
  let description = [{
    `out[t] = table[ids[t]]`; with `vocab_parallel` the table is this rank's vocabulary shard
    and ids outside it give zero rows.

    ```mlir
    gcu.embedding ins(%ids, %table : memref<?xi64>, memref<256x64xf32>)
                  outs(%h : memref<?x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_IndexBuffer, "", [MemRead]>:$ids,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$table,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, UnitAttr:$vocab_parallel);
  let assemblyFormat = [{
    `ins` `(` $ids `,` $table `:` type($ids) `,` type($table) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_MoeRouterOp : Gcu_KernelOp<"moe_router", "topsvllmMoeGatingTopk"> {
  let summary = "mixture-of-experts routing: gate GEMM, scores, (group-limited) top-k";
  let description = [{
    `vgcu.moe_router` in one launch: `logits = x · gateᵀ` in the model dtype (in f32 with
    `route_in_f32`), softmax (or sigmoid) scores in f32, the group limit when `num_groups` is
    set, the `top_k` largest scores (of `scores + bias` with a `correction_bias`) per token
    with their expert ids, divided by their sum with `renormalize`, times `scaling_factor`,
    rounded to the model dtype (kept in f32 with `route_in_f32`).

    ```mlir
    gcu.moe_router ins(%x, %gate : memref<?x64xf32>, memref<8x64xf32>)
                   outs(%w, %ids : memref<?x2xf32>, memref<?x2xi64>) {top_k = 2 : i64, renormalize}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$gate,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$correction_bias,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$weights,
                       Arg<Gcu_IndexBuffer, "", [MemWrite]>:$ids,
                       PositiveI64Attr:$top_k, UnitAttr:$renormalize,
                       MoeScoringProp:$scoring, MoeGroupScoreProp:$group_score,
                       OptionalAttr<PositiveI64Attr>:$num_groups,
                       OptionalAttr<PositiveI64Attr>:$topk_groups,
                       OptionalAttr<PositiveF64Attr>:$scaling_factor, UnitAttr:$route_in_f32);
  let assemblyFormat = [{
    `ins` `(` $input `,` $gate `:` type($input) `,` type($gate) `)`
    (`bias` `(` $correction_bias^ `:` type($correction_bias) `)`)?
    `outs` `(` $weights `,` $ids `:` type($weights) `,` type($ids) `)`
    (`scoring` $scoring^)? (`group_score` $group_score^)? attr-dict
  }];
}

def Gcu_FusedMoeOp : Gcu_KernelOp<"fused_moe", "topsvllmFusedMoe", [AttrSizedOperandSegments]> {
  let summary = "routed experts: grouped gate/up GEMMs with SiLU·mul, down GEMMs, weighted sum";
  let description = [{
    Tokens grouped by the experts their ids name; per expert, one GEMM over its stacked
    gate and up rows with the SiLU·mul epilogue and one over its down rows; each token's
    expert outputs scaled by its routing weights and summed in ascending expert order.
    `gate_up` is `[num_experts · 2 · I, hidden]`, `down` `[num_experts · hidden, I]`, with
    `I` this rank's slice of the intermediate size (the output is then a partial sum that an
    all-reduce completes). With `shared` operands, a shared expert (`shared_gate_up`,
    `shared_down`) runs on every token, scaled by `sigmoid(x · shared_gateᵀ)` when there is a
    `shared_gate`, and is added. f32 routing weights (DeepSeek) sum the routed experts in f32.
    With `expert_parallel = n`, `gate_up` and `down` stack this rank's `num_experts / n`
    experts, those starting at `(rank / tp) · num_experts / n`; tokens routed elsewhere
    contribute nothing here, and the shared expert runs on expert-parallel index 0 only.

    ```mlir
    gcu.fused_moe ins(%x, %w, %ids, %gate_up, %down : memref<?x64xf32>, memref<?x2xf32>,
                      memref<?x2xi64>, memref<256x64xf32>, memref<512x16xf32>)
                  outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weights,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$ids,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$gate_up,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$down,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_gate_up,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_down,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_gate,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                       PositiveI64Attr:$num_experts,
                       OptionalAttr<PositiveI64Attr>:$expert_parallel);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weights `,` $ids `,` $gate_up `,` $down `:` type($input) `,`
    type($weights) `,` type($ids) `,` type($gate_up) `,` type($down) `)`
    (`shared` `(` $shared_gate_up^ `,` $shared_down `:` type($shared_gate_up) `,`
     type($shared_down) `)`)? (`shared_gate` `(` $shared_gate^ `:` type($shared_gate) `)`)?
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_QuantFusedMoeOp
    : Gcu_KernelOp<"quant_fused_moe", "topsvllmFusedMoeWeightOnlyQuant", [AttrSizedOperandSegments]> {
  let summary = "gcu.fused_moe over experts whose weights are stored quantized";
  let description = [{
    The routed experts of `gcu.fused_moe`, with the stacked `gate_up` and `down` weights
    stored as `#vgcu.quant` says (see `gcu.quant_gemm`): `gate_up_codes` `[num_experts · 2 ·
    I, hidden · bits / 8]` and `down_codes` `[num_experts · hidden, I · bits / 8]`, each with
    its f32 scales (and zeros with zero points), every expert's rows whole row blocks. The
    shared expert, when there is one, is in the model dtype. Weight-only: activations stay
    in the model dtype. `expert_parallel` as for `gcu.fused_moe`: the stacks hold this rank's
    `num_experts / expert_parallel` experts.

    ```mlir
    gcu.quant_fused_moe ins(%x, %w, %ids : memref<?x64xf32>, memref<?x2xf32>, memref<?x2xi64>)
        gate_up(%gu, %gus zeros %guz : memref<256x32xi8>, memref<256x4xf32>, memref<256x4xf32>)
        down(%d, %ds zeros %dz : memref<512x8xi8>, memref<512x1xf32>, memref<512x1xf32>)
        outs(%y : memref<?x64xf32>) {num_experts = 8 : i64}
        quant <codes = uint4, block_cols = 16, zero_point = true>
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weights,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$ids,
                       Arg<MemRefOf<[I8]>, "", [MemRead]>:$gate_up_codes,
                       Arg<MemRefOf<[F32]>, "", [MemRead]>:$gate_up_scales,
                       Arg<Optional<MemRefOf<[F32]>>, "", [MemRead]>:$gate_up_zeros,
                       Arg<MemRefOf<[I8]>, "", [MemRead]>:$down_codes,
                       Arg<MemRefOf<[F32]>, "", [MemRead]>:$down_scales,
                       Arg<Optional<MemRefOf<[F32]>>, "", [MemRead]>:$down_zeros,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_gate_up,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_down,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$shared_gate,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                       PositiveI64Attr:$num_experts,
                       OptionalAttr<PositiveI64Attr>:$expert_parallel,
                       Vgcu_QuantAttr:$quant);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weights `,` $ids `:` type($input) `,` type($weights) `,` type($ids) `)`
    `gate_up` `(` $gate_up_codes `,` $gate_up_scales (`zeros` $gate_up_zeros^)? `:`
      type($gate_up_codes) `,` type($gate_up_scales) (`,` type($gate_up_zeros)^)? `)`
    `down` `(` $down_codes `,` $down_scales (`zeros` $down_zeros^)? `:`
      type($down_codes) `,` type($down_scales) (`,` type($down_zeros)^)? `)`
    (`shared` `(` $shared_gate_up^ `,` $shared_down `:` type($shared_gate_up) `,`
     type($shared_down) `)`)? (`shared_gate` `(` $shared_gate^ `:` type($shared_gate) `)`)?
    `outs` `(` $out `:` type($out) `)` attr-dict `quant` $quant
  }];
  let extraClassDeclaration = [{
    /// The intermediate size of one expert on this rank.
    int64_t getIntermediateSize();
  }];
}

def Gcu_GemmOp : Gcu_KernelOp<"gemm", "topsatenLinear", [AttrSizedOperandSegments]> {
  let summary = "out = epilogue(x · Wᵀ + bias) (+ residual)";
  let description = [{
    A linear layer with the weight in `[N, K]` layout. The epilogue runs on the GEMM's output
    tile before it is stored: `silu_and_mul` (and the GELU variants) halve the width, so the
    packed gate_up projection and its activation are one launch. `residual`, when given, is
    added after the epilogue (the residual connection of a post-norm block). With
    `first_rank_bias` (a row-parallel projection, whose outputs are partial sums) only the
    first tensor-parallel rank adds the bias, so the all-reduce after it adds it once.
    `soft_cap`, when set, bounds the stored result to `cap · tanh(y / cap)` in its dtype.

    ```mlir
    gcu.gemm ins(%x, %w : memref<?x64xf32>, memref<256x64xf32>)
             outs(%y : memref<?x128xf32>) epilogue silu_and_mul
    gcu.gemm ins(%x, %w2 : memref<?x64xf32>, memref<64x64xf32>) bias(%b : memref<64xf32>)
             residual(%r : memref<?x64xf32>) outs(%z : memref<?x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$bias,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$residual,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                       DefaultValuedProp<EnumProp<EpilogueEnum>, "::vgcu::Epilogue::none">:$epilogue,
                       UnitAttr:$first_rank_bias,
                       OptionalAttr<PositiveF64Attr>:$soft_cap);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `:` type($input) `,` type($weight) `)`
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `outs` `(` $out `:` type($out) `)` (`epilogue` $epilogue^)? attr-dict
  }];
}

def Gcu_QuantGemmOp
    : Gcu_KernelOp<"quant_gemm", "topsvllmWeightOnlyQuantGemm", [AttrSizedOperandSegments]> {
  let summary = "out = epilogue(x · dequantize(W)ᵀ + bias) (+ residual), W stored quantized";
  let description = [{
    `gcu.gemm` over a weight stored as `#vgcu.quant` says: `codes` `[N, K · bits / 8]` (two
    4-bit codes per byte, the even column in the low nibble), `scales` f32 `[row blocks,
    groups]`, `zeros` of the same shape when the scheme has zero points, `g_idx` `[K]` (the
    group of each input feature) when it has act-order groups. Activations stay in the model
    dtype (weight-only quantization: W4A16, W8A16, FP8 weights); the weight is dequantized
    in the kernel, never stored dequantized.

    ```mlir
    gcu.quant_gemm ins(%x, %codes : memref<?x64xf32>, memref<128x32xi8>)
                   scales(%s : memref<128x2xf32>) zeros(%z : memref<128x2xf32>)
                   outs(%y : memref<?x128xf32>)
                   quant #vgcu.quant<codes = uint4, block_cols = 32, zero_point = true>
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<MemRefOf<[I8]>, "", [MemRead]>:$codes,
                       Arg<MemRefOf<[F32]>, "", [MemRead]>:$scales,
                       Arg<Optional<MemRefOf<[F32]>>, "", [MemRead]>:$zeros,
                       Arg<Optional<MemRefOf<[I32]>>, "", [MemRead]>:$g_idx,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$bias,
                       Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$residual,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                       Vgcu_QuantAttr:$quant,
                       DefaultValuedProp<EnumProp<EpilogueEnum>, "::vgcu::Epilogue::none">:$epilogue,
                       UnitAttr:$first_rank_bias,
                       OptionalAttr<PositiveF64Attr>:$soft_cap);
  let assemblyFormat = [{
    `ins` `(` $input `,` $codes `:` type($input) `,` type($codes) `)`
    `scales` `(` $scales `:` type($scales) `)`
    (`zeros` `(` $zeros^ `:` type($zeros) `)`)?
    (`g_idx` `(` $g_idx^ `:` type($g_idx) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`residual` `(` $residual^ `:` type($residual) `)`)?
    `outs` `(` $out `:` type($out) `)` (`epilogue` $epilogue^)? `quant` $quant attr-dict
  }];
  let extraClassDeclaration = [{
    /// N and K of the weight the codes stand for.
    int64_t getOutFeatures();
    int64_t getInFeatures();
  }];
}

def Gcu_BatchMatmulOp : Gcu_KernelOp<"batch_matmul", "topsatenMatmul"> {
  let summary = "batched matrix product with broadcast batch dimensions";
  let description = [{
    ```mlir
    gcu.batch_matmul ins(%a, %b : memref<4x?x16xf32>, memref<4x16x?xf32>)
                     outs(%c : memref<4x?x?xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$lhs,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$rhs,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out);
  let assemblyFormat = [{
    `ins` `(` $lhs `,` $rhs `:` type($lhs) `,` type($rhs) `)` `outs` `(` $out `:` type($out) `)`
    attr-dict
  }];
}

def Gcu_RmsNormOp : Gcu_KernelOp<"rms_norm", "topsvllmRmsNorm"> {
  let summary = "RMSNorm into a new buffer";
  let description = [{
    ```mlir
    gcu.rms_norm ins(%x, %w : memref<?x64xf32>, memref<64xf32>) outs(%y : memref<?x64xf32>)
                 {epsilon = 1.0e-06 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, PositiveF64Attr:$epsilon);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `:` type($input) `,` type($weight) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_FusedAddRmsNormOp : Gcu_KernelOp<"fused_add_rms_norm", "topsvllmFusedAddRmsNorm"> {
  let summary = "residual += input; input = rms_norm(residual), both in place";
  let description = [{
    vLLM's fused_add_rms_norm: one launch updates the residual stream and normalizes it, in
    the two buffers it was given.

    ```mlir
    gcu.fused_add_rms_norm ins(%w : memref<64xf32>)
                           inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>)
                           {epsilon = 1.0e-06 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$epsilon);
  let assemblyFormat = [{
    `ins` `(` $weight `:` type($weight) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)` attr-dict
  }];
}

def Gcu_AllReduceFusedAddRmsNormOp
    : Gcu_KernelOp<"all_reduce_fused_add_rms_norm", "ecclAllReduceFusedAddRmsNorm"> {
  let summary = "input = sum over ranks; residual += input; input = rms_norm(residual)";
  let description = [{
    The tensor-parallel epilogue of a row-parallel projection and the next norm in one
    launch: the collective's reduction feeds the fused add + RMSNorm without a round trip.

    ```mlir
    gcu.all_reduce_fused_add_rms_norm ins(%w : memref<64xf32>)
        inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.0e-06 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let assemblyFormat = [{
    `ins` `(` $weight `:` type($weight) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)`
    (`group` $group^)? attr-dict
  }];
}

def Gcu_FusedNormAddNormOp : Gcu_KernelOp<"fused_norm_add_norm", "topsvllmFusedNormAddNorm"> {
  let summary = "residual += rms_norm(input); input = rms_norm(residual), both in place";
  let description = [{
    Gemma 2's sandwich norms in one launch: the norm closing a block, the residual add and
    the norm opening the next.

    ```mlir
    gcu.fused_norm_add_norm ins(%w_post, %w : memref<64xf32>, memref<64xf32>)
        inouts(%x, %res : memref<?x64xbf16>, memref<?x64xbf16>)
        {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$post_weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$post_epsilon, PositiveF64Attr:$epsilon);
  let assemblyFormat = [{
    `ins` `(` $post_weight `,` $weight `:` type($post_weight) `,` type($weight) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_AllReduceFusedNormAddNormOp
    : Gcu_KernelOp<"all_reduce_fused_norm_add_norm", "ecclAllReduceFusedNormAddNorm"> {
  let summary = "input = sum over ranks, then gcu.fused_norm_add_norm";
  let description = [{
    The tensor-parallel end of a Gemma 2 row-parallel projection and its sandwich norms in
    one launch.

    ```mlir
    gcu.all_reduce_fused_norm_add_norm ins(%w_post, %w : memref<64xf32>, memref<64xf32>)
        inouts(%x, %res : memref<?x64xbf16>, memref<?x64xbf16>)
        {post_epsilon = 1.0e-06 : f64, epsilon = 1.0e-06 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$post_weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$post_epsilon, PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let assemblyFormat = [{
    `ins` `(` $post_weight `,` $weight `:` type($post_weight) `,` type($weight) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)`
    (`group` $group^)? attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_SoftCapOp : Gcu_KernelOp<"soft_cap", "topsatenSoftCap"> {
  let summary = "out = cap · tanh(input / cap)";
  let description = [{
    ```mlir
    gcu.soft_cap ins(%x : memref<?x256xbf16>) outs(%y : memref<?x256xbf16>)
        {cap = 3.0e+01 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, PositiveF64Attr:$cap);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_LayerNormOp : Gcu_KernelOp<"layer_norm", "topsatenLayerNorm"> {
  let summary = "LayerNorm into a new buffer";
  let description = [{
    ```mlir
    gcu.layer_norm ins(%x, %w, %b : memref<?x64xf32>, memref<64xf32>, memref<64xf32>)
                   outs(%y : memref<?x64xf32>) {epsilon = 1.0e-05 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$bias,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, PositiveF64Attr:$epsilon);
  let assemblyFormat = [{
    `ins` `(` $input `,` $weight `,` $bias `:` type($input) `,` type($weight) `,` type($bias) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_FusedAddLayerNormOp : Gcu_KernelOp<"fused_add_layer_norm", "topsatenFusedAddLayerNorm"> {
  let summary = "residual += input; input = layer_norm(residual), both in place";
  let description = [{
    fused_add_rms_norm for LayerNorm models: one launch updates the residual stream and
    normalizes it with weight and bias, in the two buffers it was given.

    ```mlir
    gcu.fused_add_layer_norm ins(%w, %b : memref<64xf32>, memref<64xf32>)
                             inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>)
                             {epsilon = 1.0e-05 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$bias,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$epsilon);
  let assemblyFormat = [{
    `ins` `(` $weight `,` $bias `:` type($weight) `,` type($bias) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)` attr-dict
  }];
}

def Gcu_AllReduceFusedAddLayerNormOp
    : Gcu_KernelOp<"all_reduce_fused_add_layer_norm", "ecclAllReduceFusedAddLayerNorm"> {
  let summary = "input = sum over ranks; residual += input; input = layer_norm(residual)";
  let description = [{
    all_reduce_fused_add_rms_norm for LayerNorm models: the end of a row-parallel projection
    and the next LayerNorm in one launch.

    ```mlir
    gcu.all_reduce_fused_add_layer_norm ins(%w, %b : memref<64xf32>, memref<64xf32>)
        inouts(%x, %res : memref<?x64xf32>, memref<?x64xf32>) {epsilon = 1.0e-05 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$weight,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$bias,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$residual,
                       PositiveF64Attr:$epsilon,
                       CollectiveGroupProp:$group);
  let assemblyFormat = [{
    `ins` `(` $weight `,` $bias `:` type($weight) `,` type($bias) `)`
    `inouts` `(` $input `,` $residual `:` type($input) `,` type($residual) `)`
    (`group` $group^)? attr-dict
  }];
}

def Gcu_RotaryEmbeddingOp : Gcu_KernelOp<"rotary_embedding", "topsvllmRotaryEmbedding"> {
  let summary = "rotary embedding of queries and keys, in place";
  let description = [{
    ```mlir
    gcu.rotary_embedding ins(%pos : memref<?xi64>)
        inouts(%q, %k : memref<?x64xf32>, memref<?x32xf32>) neox
        {head_dim = 16 : i64, rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_IndexBuffer, "", [MemRead]>:$positions,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$query,
                       Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$key,
                       EnumProp<RotaryStyleEnum>:$style, PositiveI64Attr:$head_dim,
                       PositiveI64Attr:$rotary_dim, PositiveF64Attr:$theta,
                       OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling);
  let assemblyFormat = [{
    `ins` `(` $positions `:` type($positions) `)`
    `inouts` `(` $query `,` $key `:` type($query) `,` type($key) `)` $style attr-dict
  }];
}

def Gcu_ReshapeAndCacheOp : Gcu_KernelOp<"reshape_and_cache", "topsvllmReshapeAndCache"> {
  let summary = "write the new keys and values into their cache slots";
  let description = [{
    Token t goes to slot `slot_mapping[t]` = block × block_size + offset. Quantized caches
    take their scales (`gcu.kv_cache_scales`) as two more in-place operands.

    ```mlir
    gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
        inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
    gcu.reshape_and_cache ins(%k, %v, %slots : memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>)
        inouts(%qk, %qv : memref<?x64x2x16xi8>, memref<?x64x2x16xi8>)
        scales(%ks, %vs : memref<?x64x2xf32>, memref<?x64x2xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$key,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$value,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$slot_mapping,
                       Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$key_cache,
                       Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$value_cache,
                       Arg<Variadic<Gcu_CacheScaleBuffer>, "", [MemRead, MemWrite]>:$cache_scales);
  let assemblyFormat = [{
    `ins` `(` $key `,` $value `,` $slot_mapping `:` type($key) `,` type($value) `,`
    type($slot_mapping) `)` `inouts` `(` $key_cache `,` $value_cache `:` type($key_cache) `,`
    type($value_cache) `)` (`scales` `(` $cache_scales^ `:` type($cache_scales) `)`)? attr-dict
  }];
}

class Gcu_AttentionAttrs {
  dag attentionAttrs = (ins PositiveI64Attr:$num_heads, PositiveI64Attr:$num_kv_heads,
                            PositiveI64Attr:$head_dim, PositiveF64Attr:$scale,
                            OptionalAttr<PositiveI64Attr>:$sliding_window,
                            OptionalAttr<PositiveF64Attr>:$softcap);
}

def Gcu_PagedAttentionOp : Gcu_KernelOp<"paged_attention", "topsvllmPagedAttentionV1">,
                           Gcu_AttentionAttrs {
  let summary = "attention of new queries over the paged KV cache";
  let description = [{
    The batch is vLLM's flattened one: sequence `s` owns query rows
    `query_start_loc[s] .. query_start_loc[s + 1]`, has `seq_lens[s]` tokens in the cache
    (the new ones included) and finds them through row `s` of `block_tables`. Query t at
    position p attends its sequence's cached keys of positions 0..p (within the sliding
    window).

    ```mlir
    gcu.paged_attention ins(%q, %kc, %vc, %pos, %qsl, %lens, %blocks : memref<?x64xf32>,
        memref<?x64x2x16xf32>, memref<?x64x2x16xf32>, memref<?xi64>, memref<?xi64>,
        memref<?xi64>, memref<?x?xi64>)
        outs(%o : memref<?x64xf32>)
        {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64}
    ```
  }];
  let arguments = !con((ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$query,
                            Arg<Gcu_CacheBuffer, "", [MemRead]>:$key_cache,
                            Arg<Gcu_CacheBuffer, "", [MemRead]>:$value_cache,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$positions,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$query_start_loc,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$seq_lens,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$block_tables,
                            Arg<Variadic<Gcu_CacheScaleBuffer>, "", [MemRead]>:$cache_scales,
                            Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out), attentionAttrs);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key_cache `,` $value_cache `,` $positions `,` $query_start_loc `,`
    $seq_lens `,` $block_tables `:` type($query) `,` type($key_cache) `,` type($value_cache)
    `,` type($positions) `,` type($query_start_loc) `,` type($seq_lens) `,`
    type($block_tables) `)` (`scales` `(` $cache_scales^ `:` type($cache_scales) `)`)?
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_FusedRopeCacheAttentionOp
    : Gcu_KernelOp<"fused_rope_cache_attention", "topsvllmFusedRopeCacheAttention",
                   [AttrSizedOperandSegments]>, Gcu_AttentionAttrs {
  let summary = "optional q/k RMSNorm, rotary, cache write and attention in one launch";
  let description = [{
    Reads the query, key and value of the new tokens (views into the packed qkv projection),
    applies the per-head q/k RMSNorm when its weights are given (Qwen3), rotates queries and
    keys when `rotary_dim` is set, writes keys and values to their cache slots and attends
    each query over its sequence's cached context, as `gcu.paged_attention` does. The
    `decode` phase promises one new token per sequence. A quantized cache (`i8` or
    `f8E4M3FN`) comes with its `scales`: vectors are written as codes with a scale each and
    read back as code × scale in the query's type.

    ```mlir
    gcu.fused_rope_cache_attention ins(%q, %k, %v, %pos, %slots, %qsl, %lens, %blocks
        : memref<?x64xf32>, memref<?x32xf32>, memref<?x32xf32>, memref<?xi64>, memref<?xi64>,
        memref<?xi64>, memref<?xi64>, memref<?x?xi64>)
        inouts(%kc, %vc : memref<?x64x2x16xf32>, memref<?x64x2x16xf32>)
        outs(%o : memref<?x64xf32>) prefill rotary neox
        {num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64,
         rotary_dim = 16 : i64, theta = 1.0e+04 : f64}
    ```
  }];
  let arguments = !con((ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$query,
                            Arg<Gcu_FloatBuffer, "", [MemRead]>:$key,
                            Arg<Gcu_FloatBuffer, "", [MemRead]>:$value,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$positions,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$slot_mapping,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$query_start_loc,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$seq_lens,
                            Arg<Gcu_IndexBuffer, "", [MemRead]>:$block_tables,
                            Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$q_norm_weight,
                            Arg<Optional<Gcu_FloatBuffer>, "", [MemRead]>:$k_norm_weight,
                            Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$key_cache,
                            Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$value_cache,
                            Arg<Variadic<Gcu_CacheScaleBuffer>, "", [MemRead, MemWrite]>:
                                $cache_scales,
                            Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                            EnumProp<Gcu_AttentionPhase>:$phase),
                       attentionAttrs,
                       (ins OptionalProp<EnumProp<RotaryStyleEnum>>:$rotary_style,
                            OptionalAttr<PositiveI64Attr>:$rotary_dim,
                            OptionalAttr<PositiveF64Attr>:$theta,
                            OptionalAttr<PositiveF64Attr>:$norm_epsilon,
                            OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling));
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $positions `,` $slot_mapping `,` $query_start_loc
    `,` $seq_lens `,` $block_tables `:` type($query) `,` type($key) `,` type($value) `,`
    type($positions) `,` type($slot_mapping) `,` type($query_start_loc) `,` type($seq_lens)
    `,` type($block_tables) `)`
    (`qk_norm` `(` $q_norm_weight^ `,` $k_norm_weight `:` type($q_norm_weight) `,`
     type($k_norm_weight) `)`)?
    `inouts` `(` $key_cache `,` $value_cache `:` type($key_cache) `,` type($value_cache) `)`
    (`scales` `(` $cache_scales^ `:` type($cache_scales) `)`)?
    `outs` `(` $out `:` type($out) `)` $phase (`rotary` $rotary_style^)? attr-dict
  }];
}

def Gcu_MlaAttentionOp : Gcu_KernelOp<"mla_attention", "topsvllmMlaAttention"> {
  let summary = "multi-head latent attention: rotary, latent cache write and attention";
  let description = [{
    `vgcu.mla_attention` in one launch. Rotates the queries' rotary parts and `key_rope`,
    writes `latent` to `latent_cache` and the rotated `key_rope` to `rope_cache` (both
    `[blocks, block_size, 1, width]`) at `slot_mapping`, and attends. `prefill` expands the
    keys and values of the new tokens with `kv_b`; `decode` reads the whole context from the
    latent cache and attends in the latent space, `kv_b`'s key rows absorbed into the query and
    its value rows applied to the attention-weighted latents (vLLM's MLA decode). Quantized
    caches take their `scales` (one per cached latent and rotary key).

    ```mlir
    gcu.mla_attention ins(%q, %c, %kpe, %kv_b, %pos, %slots, %qsl, %lens, %blocks
        : memref<?x96xf32>, memref<?x32xf32>, memref<?x8xf32>, memref<128x32xf32>,
        memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?xi64>, memref<?x?xi64>) inouts(%lc, %rc : memref<?x64x1x32xf32>, memref<?x64x1x8xf32>)
        outs(%o : memref<?x64xf32>) decode
        {num_heads = 4 : i64, qk_nope_head_dim = 16 : i64, qk_rope_head_dim = 8 : i64,
         v_head_dim = 16 : i64, scale = 0.2 : f64, theta = 1.0e+04 : f64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$query,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$latent,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$key_rope,
                       Arg<Gcu_FloatBuffer, "", [MemRead]>:$kv_b,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$positions,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$slot_mapping,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$query_start_loc,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$seq_lens,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$block_tables,
                       Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$latent_cache,
                       Arg<Gcu_CacheBuffer, "", [MemRead, MemWrite]>:$rope_cache,
                       Arg<Variadic<Gcu_CacheScaleBuffer>, "", [MemRead, MemWrite]>:$cache_scales,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out,
                       EnumProp<Gcu_AttentionPhase>:$phase, PositiveI64Attr:$num_heads,
                       PositiveI64Attr:$qk_nope_head_dim, PositiveI64Attr:$qk_rope_head_dim,
                       PositiveI64Attr:$v_head_dim, PositiveF64Attr:$scale,
                       PositiveF64Attr:$theta, OptionalAttr<Vgcu_RopeScalingAttr>:$rope_scaling);
  let assemblyFormat = [{
    `ins` `(` $query `,` $latent `,` $key_rope `,` $kv_b `,` $positions `,` $slot_mapping `,`
    $query_start_loc `,` $seq_lens `,` $block_tables `:` type($query) `,` type($latent) `,`
    type($key_rope) `,` type($kv_b) `,` type($positions) `,` type($slot_mapping) `,`
    type($query_start_loc) `,` type($seq_lens) `,` type($block_tables) `)`
    `inouts` `(` $latent_cache `,` $rope_cache `:` type($latent_cache) `,` type($rope_cache) `)`
    (`scales` `(` $cache_scales^ `:` type($cache_scales) `)`)?
    `outs` `(` $out `:` type($out) `)` $phase attr-dict
  }];
}

class Gcu_GatedActivationKernel<string mnemonic, string entry, string formula>
    : Gcu_KernelOp<mnemonic, entry> {
  let summary = formula # " of the halves of the last dimension";
  let description = [{
    ```mlir
    gcu.}] # mnemonic # [{ ins(%gu : memref<?x256xf32>) outs(%y : memref<?x128xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_SiluAndMulOp : Gcu_GatedActivationKernel<"silu_and_mul", "topsvllmSiluAndMul",
                                                  "silu(a) · b">;
def Gcu_GeluAndMulOp : Gcu_GatedActivationKernel<"gelu_and_mul", "topsvllmGeluAndMul",
                                                  "gelu(a) · b">;
def Gcu_GeluTanhAndMulOp : Gcu_GatedActivationKernel<"gelu_tanh_and_mul",
                                                      "topsvllmGeluTanhAndMul",
                                                      "gelu_tanh(a) · b">;

def Gcu_AllReduceOp : Gcu_KernelOp<"all_reduce", "ecclAllReduce"> {
  let summary = "in-place sum across the ranks of a group (tensor-parallel by default)";
  let description = [{
    ```mlir
    gcu.all_reduce inouts(%x : memref<?x64xf32>)
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead, MemWrite]>:$buffer,
                       CollectiveGroupProp:$group);
  let assemblyFormat = "`inouts` `(` $buffer `:` type($buffer) `)` (`group` $group^)? attr-dict";
}

def Gcu_AllGatherOp : Gcu_KernelOp<"all_gather", "ecclAllGather"> {
  let summary = "concatenate every rank's buffer along a dimension";
  let description = [{
    ```mlir
    gcu.all_gather ins(%l : memref<?x128xf32>) outs(%g : memref<?x256xf32>) {dim = 1 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, SignedI64Attr:$dim);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

//===----------------------------------------------------------------------===//
// Generic kernels for what fusion left as primitives
//===----------------------------------------------------------------------===//

def Gcu_BinaryOp : Gcu_Op<"binary", [DeclareOpInterfaceMethods<Gcu_KernelLaunchOpInterface>]> {
  let summary = "elementwise binary function with broadcasting";
  let description = [{
    ```mlir
    gcu.binary add ins(%a, %b : memref<?x64xf32>, memref<64xf32>) outs(%c : memref<?x64xf32>)
    ```
  }];
  let arguments = (ins EnumProp<Gcu_BinaryKind>:$kind, Arg<Gcu_Buffer, "", [MemRead]>:$lhs,
                       Arg<Gcu_Buffer, "", [MemRead]>:$rhs,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out);
  let assemblyFormat = [{
    $kind `ins` `(` $lhs `,` $rhs `:` type($lhs) `,` type($rhs) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_UnaryOp : Gcu_Op<"unary", [DeclareOpInterfaceMethods<Gcu_KernelLaunchOpInterface>]> {
  let summary = "elementwise unary function (also casts and copies)";
  let description = [{
    ```mlir
    gcu.unary rsqrt ins(%a : memref<?x1xf32>) outs(%b : memref<?x1xf32>)
    ```
  }];
  let arguments = (ins EnumProp<Gcu_UnaryKind>:$kind, Arg<Gcu_Buffer, "", [MemRead]>:$input,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out);
  let assemblyFormat = [{
    $kind `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_WhereOp : Gcu_KernelOp<"where", "topsatenWhere"> {
  let summary = "elementwise select with broadcasting";
  let description = [{
    ```mlir
    gcu.where ins(%m, %a, %b : memref<?x?xi1>, memref<f32>, memref<4x?x?xf32>)
              outs(%c : memref<4x?x?xf32>)
    ```
  }];
  let arguments = (ins Arg<MemRefOf<[I1]>, "", [MemRead]>:$condition,
                       Arg<Gcu_Buffer, "", [MemRead]>:$on_true,
                       Arg<Gcu_Buffer, "", [MemRead]>:$on_false,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out);
  let assemblyFormat = [{
    `ins` `(` $condition `,` $on_true `,` $on_false `:` type($condition) `,` type($on_true) `,`
    type($on_false) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_ReduceOp : Gcu_Op<"reduce", [DeclareOpInterfaceMethods<Gcu_KernelLaunchOpInterface>]> {
  let summary = "sum or mean over dimensions";
  let description = [{
    ```mlir
    gcu.reduce mean ins(%x : memref<?x64xf32>) outs(%m : memref<?x1xf32>)
               {dims = array<i64: 1>, keepdim}
    ```
  }];
  let arguments = (ins EnumProp<Gcu_ReduceKind>:$kind, Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let assemblyFormat = [{
    $kind `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
  let hasVerifier = 1;
}

def Gcu_SoftmaxOp : Gcu_KernelOp<"softmax", "topsatenSoftmax"> {
  let summary = "softmax along one dimension";
  let description = [{
    ```mlir
    gcu.softmax ins(%s : memref<4x?x?xf32>) outs(%p : memref<4x?x?xf32>) {dim = 2 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$out, SignedI64Attr:$dim);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_ConcatOp : Gcu_KernelOp<"concat", "topsatenCat"> {
  let summary = "concatenation along one dimension";
  let description = [{
    ```mlir
    gcu.concat ins(%a, %b : memref<?x8xf32>, memref<?x8xf32>) outs(%c : memref<?x16xf32>)
               {dim = 1 : i64}
    ```
  }];
  let arguments = (ins Arg<Variadic<Gcu_Buffer>, "", [MemRead]>:$inputs,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out, SignedI64Attr:$dim);
  let assemblyFormat = [{
    `ins` `(` $inputs `:` type($inputs) `)` `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_GatherOp : Gcu_KernelOp<"gather", "topsatenIndexSelect"> {
  let summary = "select slices along a dimension by index";
  let description = [{
    ```mlir
    gcu.gather ins(%t, %i : memref<128x16xf32>, memref<?xi64>) outs(%o : memref<?x16xf32>)
               {dim = 0 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_Buffer, "", [MemRead]>:$input,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$indices,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out, SignedI64Attr:$dim);
  let assemblyFormat = [{
    `ins` `(` $input `,` $indices `:` type($input) `,` type($indices) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

def Gcu_TopKOp : Gcu_KernelOp<"topk", "topsatenTopk"> {
  let summary = "the k largest entries of the last dimension and their indices";
  let description = [{
    ```mlir
    gcu.topk ins(%p : memref<?x8xf32>) outs(%w, %ids : memref<?x2xf32>, memref<?x2xi64>)
             {k = 2 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_FloatBuffer, "", [MemRead]>:$input,
                       Arg<Gcu_FloatBuffer, "", [MemWrite]>:$values,
                       Arg<Gcu_IndexBuffer, "", [MemWrite]>:$indices, PositiveI64Attr:$k);
  let assemblyFormat = [{
    `ins` `(` $input `:` type($input) `)`
    `outs` `(` $values `,` $indices `:` type($values) `,` type($indices) `)` attr-dict
  }];
}

def Gcu_ScatterOp : Gcu_KernelOp<"scatter", "topsatenScatter"> {
  let summary = "input with src written at the indices along a dimension";
  let description = [{
    ```mlir
    gcu.scatter ins(%z, %ids, %w : memref<?x8xf32>, memref<?x2xi64>, memref<?x2xf32>)
                outs(%d : memref<?x8xf32>) {dim = 1 : i64}
    ```
  }];
  let arguments = (ins Arg<Gcu_Buffer, "", [MemRead]>:$input,
                       Arg<Gcu_IndexBuffer, "", [MemRead]>:$index,
                       Arg<Gcu_Buffer, "", [MemRead]>:$src,
                       Arg<Gcu_Buffer, "", [MemWrite]>:$out, SignedI64Attr:$dim);
  let assemblyFormat = [{
    `ins` `(` $input `,` $index `,` $src `:` type($input) `,` type($index) `,` type($src) `)`
    `outs` `(` $out `:` type($out) `)` attr-dict
  }];
}

#endif // GCU_OPS_TD
