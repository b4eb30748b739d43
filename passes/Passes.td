//===- Passes.td - vgcu's passes -------------------------------------*- tablegen -*-===//

#ifndef VGCU_PASSES_TD
#define VGCU_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldWeights : Pass<"vgcu-fold-weights", "::mlir::ModuleOp"> {
  let summary = "Move computations on weights alone to artifact time (computed parameters)";
  let description = [{
    In `@forward` and `@compute_logits`, every maximal subgraph of elementwise arithmetic,
    casts and data movement whose leaves are parameters and constants is outlined into a
    private function `@fold.N` (attribute `vgcu.weight_function` naming the result), and its
    value replaced by `vgcu.param "<leaf>.folded" computed_by @fold.N`. The artifact writer
    evaluates the function once (in f32, rounding each op to its element type,
    as PyTorch would) and stores the result as a weight: Gemma's `1 + w` norm weights and
    transposed or scaled weights cost nothing per step, and the fusion patterns see
    parameters.
    Subgraphs of constants alone are left to canonicalization.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect", "::mlir::func::FuncDialect"];
}

def UngroupProjections : Pass<"vgcu-ungroup-projections", "::mlir::func::FuncOp"> {
  let summary = "Make the parts of a projection split through a grouped view contiguous";
  let description = [{
    A `[tokens, features]` linear whose only use is a view `[tokens, (groups,) parts, width]`
    cut into slices along `parts` (InternLM2's wqkv: per KV head, its queries, key and value;
    Baichuan's W_pack: q, k, v) becomes a linear over a weight whose rows are reordered part
    by part, each part a contiguous slice of its output viewed as before. The reordering is
    arithmetic on the weight alone, left for vgcu-fold-weights; vgcu-pack-projections then
    sees an ordinary packed projection, which tensor parallelism splits part by part.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseRmsNorm : Pass<"vgcu-fuse-rms-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse RMSNorm and LayerNorm spelled in primitives into vgcu.rms_norm / layer_norm";
  let description = [{
    Recognizes `x · rsqrt(mean(x², -1) + eps) · w` in the spellings PyTorch code uses
    (`pow(2)` or `x * x`, `rsqrt` or `1 / sqrt`, the weight on either side, an f32 upcast
    around the normalization) and `(x - mean) / sqrt(var + eps) · w + b`. The mean must be over
    the last dimension only, eps must be a positive scalar constant and the weight a 1-D
    parameter as long as the last dimension; anything else is left alone.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseAddRmsNorm : Pass<"vgcu-fuse-add-rms-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse a residual add feeding an RMSNorm or LayerNorm into one fused op";
  let description = [{
    `s = a + b; n = rms_norm(s)` with `s` used later (the residual stream) becomes
    `n, s = add_rms_norm(a, b)` (vLLM's fused_add_rms_norm), and a LayerNorm likewise becomes
    `add_layer_norm`. The add must not broadcast: the fused op provides the sum only at the
    operands' own type.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseNormAddNorm : Pass<"vgcu-fuse-norm-add-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse an RMSNorm feeding a residual add + RMSNorm into vgcu.norm_add_norm";
  let description = [{
    `add_rms_norm(rms_norm(x, w_post), r, w)`, the inner norm used only there, becomes
    `norm_add_norm(x, r, w_post, w)`: Gemma 2's post-norm closing a block, the residual add
    and the pre-norm opening the next, one kernel instead of two.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseSoftCap : Pass<"vgcu-fuse-soft-cap", "::mlir::func::FuncOp"> {
  let summary = "Fuse tanh soft-capping spelled in primitives into vgcu.soft_cap";
  let description = [{
    `tanh(x / c) · c` with one positive scalar constant `c` (Gemma 2's attention scores and
    logits) becomes `vgcu.soft_cap x {cap = c}`, which attention fusion and the GEMM epilogue
    then take in.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseRotary : Pass<"vgcu-fuse-rotary", "::mlir::func::FuncOp"> {
  let summary = "Fuse rotary position embeddings computed from positions into vgcu.rotary_embedding";
  let description = [{
    Matches `x · cos + rotate(x) · sin` on queries and keys, where cos and sin come from
    `positions · inv_freq` with `inv_freq[i] = theta^(-2i/d)`, for neox (rotate_half over
    concatenated halves) and GPT-J (interleaved pairs) styles. A query and a key rotated by
    the same tables become one op.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseAttention : Pass<"vgcu-fuse-attention", "::mlir::func::FuncOp"> {
  let summary = "Fuse softmax(q·kᵀ·scale + causal mask)·v into vgcu.attention";
  let description = [{
    Matches scaled dot-product attention over [tokens, heads, head_dim] values with grouped
    KV heads (repeat_interleave or expand + reshape), a causal mask built by comparing key
    and query positions (`key > query` masked), optionally a sliding window
    (`query - key >= window` also masked), softmax over keys, and the scale as scalar
    constant multiplies on the scores or the query. Masks that are not causal, softmax over
    another axis or non-scalar scales are left alone.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseGelu : Pass<"vgcu-fuse-gelu", "::mlir::func::FuncOp"> {
  let summary = "Fuse GELU's tanh approximation spelled in primitives into vgcu.gelu";
  let description = [{
    `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (GPT-2's `gelu_new`, written out by
    transformers' NewGELUActivation; `x³` as `pow(x, 3)` or `x · x · x`, the products grouped
    either way) becomes `vgcu.gelu x tanh`, which the GEMM epilogue and the gated-activation
    fusion then take in.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseSiluMul : Pass<"vgcu-fuse-silu-mul", "::mlir::func::FuncOp"> {
  let summary = "Fuse silu(a)·b (and the GELU variants) into vgcu.silu_and_mul / gelu_and_mul";
  let description = [{
    `silu(a) · b` (also spelled `a · sigmoid(a) · b`) where a and b are the two halves of one
    value becomes `silu_and_mul(x)`; where they are two separate values of the same type it
    becomes `silu_and_mul(concat(a, b))`, which vgcu-pack-projections turns into one packed
    gate_up projection.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseMoe : Pass<"vgcu-fuse-moe", "::mlir::func::FuncOp"> {
  let summary = "Fuse a traced (dense) mixture of experts into vgcu.moe_router + moe_experts";
  let description = [{
    A traced mixture of experts weighs every expert by a column of the top-k routing weights
    scattered into zeros, `Σ_e down_e(silu_and_mul(gate_up_e(x))) · dense[:, e]` in ascending
    `e`, with `dense = scatter(0, topk(softmax(f32(x · gateᵀ))).indices, weights)` and the
    weights optionally divided by their sum. That is the sparse block exactly, so it becomes
    `vgcu.moe_router` and `vgcu.moe_experts` over stacked `<experts>.gate_up.weight` and
    `<experts>.down.weight` parameters whose segments are the experts' own parameters
    (`<experts>.<e>.<name>.weight`), as a builder emits them. A Qwen2-MoE shared expert
    added to the sum, `sigmoid(x · shared_gateᵀ) · shared_expert(x)`, becomes the op's
    shared operands. Each expert's gate and up may be two projections (before
    vgcu-pack-projections, where the pipeline runs this) or one packed projection.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def PackProjections : Pass<"vgcu-pack-projections", "::mlir::func::FuncOp"> {
  let summary = "Pack linears sharing an input (q/k/v, gate/up) into one linear";
  let description = [{
    Linears that read the same input, whose weights are parameters of sibling modules
    (`...self_attn.q_proj.weight`, `...k_proj.weight`, ...) and agree on having a bias,
    become one linear over a packed parameter (`...qkv_proj.weight`), recording
    packed_modules and packed_sizes so weight loading stacks the checkpoint tensors the same
    way. Users get slices of the packed output; a concatenation of exactly those slices, in
    order, folds to the packed linear itself under canonicalization (as in the pipeline).
    A linear whose one parameter is already packed (Phi-3's `qkv_proj`, a `gate_up_proj`)
    gets the same record when its output is cut into contiguous slices of the last
    dimension, or halved by a gated activation, so sharding splits each part on its own.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def ShardTensorParallel : Pass<"vgcu-shard-tensor-parallel", "::mlir::ModuleOp"> {
  let summary = "Shard the graph for tensor (and expert) parallelism across `tp` (· `ep`) ranks";
  let description = [{
    Makes the linears that produce attention heads or MLP activations column-parallel (each
    packed segment split in its own right, KV heads replicated when fewer than ranks), the
    linears that consume them row-parallel followed by `vgcu.all_reduce`, the embedding
    vocab-parallel (vocabulary padded to a multiple of 64·tp) and the LM head vocab-parallel
    with an all-gather of logits. Every parameter gets its `shard` layout so one program
    serves all ranks. Fails before changing anything when tp does not divide a dimension that
    must be divided, and fails when a rank's slice of a quantized weight would cut its scale
    blocks or groups (act-order groups excepted: every rank keeps them all).

    With `ep` > 1 the experts of every `vgcu.moe_experts` are split over `ep` expert-parallel
    groups of `tp` ranks (rank = ep index · tp + tp index): each rank holds its group's
    `num_experts / ep` experts, each cut along the intermediate dimension over the group's
    `tp` ranks, and the layer's partial sums are all-reduced over all `tp · ep` ranks
    (`group expert`). Everything else is sharded over `tp` as without `ep`, and replicated
    across the groups.
  }];
  let options = [
    Option<"tp", "tp", "int64_t", "1", "tensor-parallel size">,
    Option<"ep", "ep", "int64_t", "1", "expert-parallel size (mixture-of-experts layers)">
  ];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseAllReduceNorm : Pass<"vgcu-fuse-allreduce-norm", "::mlir::func::FuncOp"> {
  let summary = "Fuse an all_reduce feeding add_rms_norm / add_layer_norm into one op";
  let description = [{
    `add_rms_norm(all_reduce(x), r)` becomes `all_reduce_add_rms_norm(x, r)`, and
    `add_layer_norm` likewise `all_reduce_add_layer_norm`, when the all_reduce has no other
    user: a row-parallel projection then costs no launch beyond its GEMM.
    `norm_add_norm(all_reduce(x), r)` becomes `all_reduce_norm_add_norm(x, r)` (the
    all-reduce must be the normed input, not the residual).
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def SplitLogits : Pass<"vgcu-split-logits", "::mlir::ModuleOp"> {
  let summary = "Split a traced model's LM head off @forward into @compute_logits";
  let description = [{
    A traced model is one function from token ids to logits, but sharding and lowering expect
    vLLM's split: `@forward(input_ids, positions) -> hidden_states` and
    `@compute_logits(hidden_states) -> logits`, so that only the last token's row goes through
    the LM head. The final `vgcu.linear` producing @forward's result (its weight a parameter,
    as an LM head's is, tied or not) moves into a new @compute_logits and @forward returns its
    input. Modules that already have @compute_logits are left alone; a @forward that does not
    end in such a projection is an error.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect", "::mlir::func::FuncDialect"];
}

def FuseGemmEpilogue : Pass<"vgcu-fuse-gemm-epilogue", "::mlir::func::FuncOp"> {
  let summary = "Fold an activation and a residual add into the vgcu.linear that feeds them";
  let description = [{
    A linear whose only user is a gated activation (`silu_and_mul`, `gelu_and_mul`) or a
    plain one (`relu`, `gelu`) takes it as its `epilogue`; a linear (with or without an
    epilogue) whose only user is an add of a same-typed value computed before the linear
    takes that value as its `residual`. Each becomes one GEMM launch. Runs after sharding
    (an epilogue never sits between a column and a row projection when their blocks are
    planned); an activation is never folded after a residual, which the kernel adds last.
    A `soft_cap` of a linear's only use becomes its `soft_cap`; a soft cap of the gathered,
    unpadded vocabulary shards of a vocab-parallel LM head moves before the gather (it is
    elementwise), so the head's GEMM caps its own shard.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def FuseRotaryAttention : Pass<"vgcu-fuse-rotary-attention", "::mlir::func::FuncOp"> {
  let summary = "Fold a rotary embedding (and per-head q/k norms) into its attention";
  let description = [{
    `attention(rotary(q, k), v)`, where the rotary's results feed only that attention,
    becomes `vgcu.rotary_attention`, which lowers to the kernel library's fused rope + cache
    + attention entry. Per-head RMSNorms of q and k right before the rotary (Qwen3's
    `reshape → rms_norm → reshape`, with one epsilon) are folded too. Partial rotary
    (`rotary_dim < head_dim`) fuses like full rotary.
  }];
  let dependentDialects = ["::vgcu::VgcuDialect"];
}

def LowerToGcu : Pass<"vgcu-lower-to-gcu", "::mlir::ModuleOp"> {
  let summary = "Lower a vgcu model to gcu kernel calls on buffers with prefill/decode entries";
  let description = [{
    Turns `@forward` and `@compute_logits` into `@prefill` and `@decode`, each running the
    model on new tokens, writing their keys and values to the paged KV cache
    ([blocks, 64, kv_heads, head_dim]) and returning the logits of the last token
    (`vgcu.last_token` between the two functions). Each vgcu op is converted on its own by
    one dialect-conversion pattern: views for slices and reshapes, one launch for each
    module-level op (a `vgcu.linear` with its epilogue and residual is one GEMM,
    `vgcu.rotary_attention` one fused rope + cache + attention launch), and in-place kernels
    on the buffers of operands that die there (decided by a liveness analysis of the body
    before conversion). With `fuse-rope-cache`, a plain `vgcu.attention` uses the fused
    kernel without rotary; without it, the cache write and context/paged attention kernels.
    `kv-cache-dtype=int8|fp8_e4m3` stores the caches quantized (`gcu.kv_cache_scales`).
  }];
  let options = [
    Option<"fuseRopeCache", "fuse-rope-cache", "bool", "true",
           "lower vgcu.attention to the kernel library's fused cache write + attention entry">,
    Option<"kvCacheDtype", "kv-cache-dtype", "std::string", "\"auto\"",
           "what the KV caches hold: auto (the activations' type), int8 or fp8_e4m3 codes "
           "with a scale per cached vector">
  ];
  let dependentDialects = ["::gcu::GcuDialect", "::mlir::func::FuncDialect"];
}

def PlanBuffers : Pass<"vgcu-plan-buffers", "::mlir::func::FuncOp"> {
  let summary = "Assign gcu.alloc buffers to arena slots reused once their last use is done";
  let description = [{
    Buffers (and the views of them) are live from their allocation to their last use; a slot
    is reused by a later allocation (of any element type: slots are bytes) once its previous
    buffer is dead, so a decode step allocates nothing after the first.
  }];
}

#endif // VGCU_PASSES_TD
