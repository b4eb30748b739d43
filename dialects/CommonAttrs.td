//===- CommonAttrs.td - Attribute constraints shared by the vgcu and gcu dialects ---===//

#ifndef VGCU_COMMON_ATTRS_TD
#define VGCU_COMMON_ATTRS_TD

include "mlir/IR/CommonAttrConstraints.td"

// An i64 attribute read back as a signed int64_t. Upstream I64Attr reads uint64_t, which
// would hide negative sizes and indices from the verifiers.
def SignedI64Attr : TypedSignlessIntegerAttrBase<I64, "int64_t",
                                                 "64-bit signless integer attribute"> {
  let convertFromStorage = "$_self.getValue().getSExtValue()";
}

// Range constraints checked by ODS, so every op states them the same way.
def PositiveI64Attr : ConfinedAttr<SignedI64Attr, [IntPositive]>;
def NonNegativeI64Attr : ConfinedAttr<SignedI64Attr, [IntNonNegative]>;

def FloatPositive : AttrConstraint<
    CPred<"::llvm::cast<::mlir::FloatAttr>($_self).getValueAsDouble() > 0.0">,
    "whose value is positive">;
def PositiveF64Attr : ConfinedAttr<F64Attr, [FloatPositive]>;

#endif // VGCU_COMMON_ATTRS_TD
