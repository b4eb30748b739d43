//===- VgcuBase.td - The vgcu graph dialect, its enums and attributes ---*- tablegen -*-===//

#ifndef VGCU_BASE_TD
#define VGCU_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Vgcu_Dialect : Dialect {
  let name = "vgcu";
  let cppNamespace = "::vgcu";
  let summary = "Graph-level IR of decoder-only language models";
  let description = [{
    The `vgcu` dialect describes a model the way vLLM's model code does: as calls to
    module-level operations (`linear`, `rms_norm`, `attention`, ...) over tensors whose first
    dimension is the dynamic token count, plus the primitive tensor operations a traced
    PyTorch model needs before fusion turns them into module-level ops. Weights are named
    `vgcu.param` values whose name is the module prefix that weight loading matches.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
}

class Vgcu_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vgcu_Dialect, mnemonic, traits>;

include "dialects/common/CommonEnums.td"
include "dialects/vgcu/VgcuEnums.td"

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

def Vgcu_ShardAttr : AttrDef<Vgcu_Dialect, "Shard"> {
  let mnemonic = "shard";
  let summary = "How a tensor-parallel rank's slice is cut from the whole tensor";
  let description = [{
    Along `dim`, the whole tensor is a concatenation of `segments` (sizes in elements along
    `dim`, e.g. the q, k and v parts of a packed qkv weight), and segment `i` is made of
    `units[i]` equal units (attention heads, or single rows). Rank `r` of `tp` ranks takes,
    from every segment, `units / tp` units starting at unit `r * units / tp`; when a segment
    has fewer units than ranks (KV heads below the tensor-parallel size), it takes the one
    unit `r * units / tp`, so that unit is replicated. Rows at or beyond `valid` (when
    non-zero) are padding: zero-filled and never a real token.

    Under expert parallelism (`ep` > 1) ranks are numbered expert-parallel index major,
    `rank = e · tp + t`. The tensor is first cut along `ep_dim` into `ep` equal blocks of
    consecutive experts and rank `rank` keeps block `e`; the cut above, with tp index `t`,
    then applies to that block (`segments` describe one block when `ep_dim` is `dim`).

    Example: `#vgcu.shard<dim = 0, tp = 2, segments = [4096, 1024, 1024], units = [32, 8, 8]>`
    and, for the down weights of 8 stacked experts of hidden size 64 on tp 2 × ep 2:
    `#vgcu.shard<dim = 1, tp = 2, segments = [32], units = [32], ep = 2>` (`ep_dim` 0).
  }];
  let parameters = (ins
    "int64_t":$dim,
    "int64_t":$tp,
    ArrayRefParameter<"int64_t">:$segments,
    ArrayRefParameter<"int64_t">:$units,
    DefaultValuedParameter<"int64_t", "0">:$valid,
    DefaultValuedParameter<"int64_t", "1">:$ep,
    DefaultValuedParameter<"int64_t", "0">:$ep_dim
  );
  let assemblyFormat = [{
    `<` `dim` `=` $dim `,` `tp` `=` $tp `,` `segments` `=` `[` $segments `]` `,`
    `units` `=` `[` $units `]` `` custom<ShardTail>($valid, $ep, $ep_dim) `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The size of the whole (unsharded) tensor along `dim`.
    int64_t getGlobalSize() const;
    /// The tensor-parallel and expert-parallel index of `rank`.
    int64_t getTensorIndex(int64_t rank) const { return rank % getTp(); }
    int64_t getExpertIndex(int64_t rank) const { return rank / getTp() % getEp(); }
    /// The size of one rank's slice along `dim`.
    int64_t getLocalSize() const;
    /// For `rank`, the [offset, size) ranges of the whole tensor along `dim` that make up the
    /// rank's slice, in order (within the rank's expert block when `ep_dim` is another dim).
    llvm::SmallVector<std::pair<int64_t, int64_t>> getRankRanges(int64_t rank) const;
  }];
}

// A double with a default, printed as MLIR prints floats (exact round trip).
class Vgcu_F64Parameter<string default>
    : DefaultValuedParameter<"::llvm::APFloat", "::llvm::APFloat(" # default # ")"> {
  let comparator = "$_lhs.bitwiseIsEqual($_rhs)";
  let parser = [{ [&]() -> ::mlir::FailureOr<::llvm::APFloat> {
    double value;
    if (::mlir::failed($_parser.parseFloat(value)))
      return ::mlir::failure();
    return ::llvm::APFloat(value);
  }() }];
  let printer = [{ $_printer.printFloat($_self) }];
}

def Vgcu_RopeScalingAttr : AttrDef<Vgcu_Dialect, "RopeScaling"> {
  let mnemonic = "rope";
  let summary = "How rotary frequencies are scaled (Hugging Face's rope_scaling)";
  let description = [{
    The `rope_scaling` of a Hugging Face config, with the semantics of transformers'
    `modeling_rope_utils.py`; the rotary op holding it keeps `theta` and `rotary_dim`, and
    without it the frequencies are `theta^(-2i/rotary_dim)`.

    - `linear`: frequencies divided by `factor`.
    - `llama3`: Llama 3.1's smoothing; `factor`, `low_freq_factor`, `high_freq_factor`,
      `original_max_positions`.
    - `yarn`: frequencies ramped between `1/factor` and 1 over the correction range of
      `beta_fast` and `beta_slow` at `original_max_positions` (rounded outward unless
      `truncate` is false); cos and sin are multiplied by `attention_factor`.
    - `dynamic` (NTK): a call whose largest position p has p + 1 > `original_max_positions`
      (the config's max_position_embeddings) uses base
      `theta · (factor · (p + 1) / original_max_positions - (factor - 1))^(d / (d - 2))`.
    - `longrope`: frequencies divided by `short_factor`, or by `long_factor` in a call whose
      largest position p has p + 1 > `original_max_positions`; cos and sin are multiplied by
      `attention_factor`.
    - `precomputed`: the `frequencies` as given (what a traced model's constant table holds,
      whatever rope type computed it; theta is then unused); cos and sin are multiplied by
      `attention_factor`.

    Example: `#vgcu.rope<type = llama3, factor = 8.0, low_freq_factor = 1.0,
    high_freq_factor = 4.0, original_max_positions = 8192>`
  }];
  let parameters = (ins
    EnumParameter<Vgcu_RopeType>:$type,
    Vgcu_F64Parameter<"1.0">:$factor,
    DefaultValuedParameter<"int64_t", "0">:$original_max_positions,
    Vgcu_F64Parameter<"1.0">:$low_freq_factor,
    Vgcu_F64Parameter<"4.0">:$high_freq_factor,
    Vgcu_F64Parameter<"32.0">:$beta_fast,
    Vgcu_F64Parameter<"1.0">:$beta_slow,
    DefaultValuedParameter<"bool", "true">:$truncate,
    Vgcu_F64Parameter<"1.0">:$attention_factor,
    OptionalParameter<"::mlir::DenseF64ArrayAttr">:$short_factor,
    OptionalParameter<"::mlir::DenseF64ArrayAttr">:$long_factor,
    OptionalParameter<"::mlir::DenseF64ArrayAttr">:$frequencies
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Whether the frequencies depend on the positions of each call (dynamic, longrope).
    bool dependsOnCall() const;
  }];
}

def Vgcu_QuantAttr : AttrDef<Vgcu_Dialect, "Quant"> {
  let mnemonic = "quant";
  let summary = "How a weight is stored quantized";
  let description = [{
    A `[rows, cols]` weight (a linear's `[out_features, in_features]`) stored as one code
    per element plus scales: element `(r, c)` is `(code - zero) · scale`, with the scale (and
    zero) of its block. A block is `block_rows` rows (0: all of them) by `block_cols`
    columns (0: all of them): GPTQ and AWQ groups are `1 × group_size`, W8A16 and per-channel
    FP8 are `1 × 0`, DeepSeek-V3's FP8 blocks `128 × 128`, a per-tensor FP8 scale `0 × 0`.
    With `zero_point` each block has its own zero, else it is 2^(bits-1) for the unsigned
    integer codes (symmetric) and 0 for FP8. With `act_order` (GPTQ's `desc_act`) a column's
    group is not `c / block_cols` but what the `g_idx` vector says.

    The artifact stores a quantized parameter `NAME` as `NAME` (the codes, i8, two 4-bit
    codes per byte with the even column in the low nibble), `NAME.scales` (f32
    `[row blocks, groups]`), `NAME.zeros` (same shape, with `zero_point`) and `NAME.g_idx`
    (i32 `[cols]`, with `act_order`).

    Example: `#vgcu.quant<codes = uint4, block_cols = 128, zero_point = true>`
  }];
  let parameters = (ins
    EnumParameter<Vgcu_QuantCodes>:$codes,
    DefaultValuedParameter<"int64_t", "1">:$block_rows,
    DefaultValuedParameter<"int64_t", "0">:$block_cols,
    DefaultValuedParameter<"bool", "false">:$zero_point,
    DefaultValuedParameter<"bool", "false">:$act_order
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bits per code.
    int64_t getBits() const;
    /// Blocks of scales along rows and columns of a `[rows, cols]` weight (the column count
    /// of the whole weight when `act_order`, whose groups every slice keeps).
    int64_t getRowBlocks(int64_t rows) const;
    int64_t getColumnGroups(int64_t cols) const;
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def Vgcu_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Vgcu_IndexTensor : RankedTensorOf<[I32, I64]>;
def Vgcu_Tensor : RankedTensorOf<[F32, F16, BF16, I1, I32, I64]>;

#endif // VGCU_BASE_TD
