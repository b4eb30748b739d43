//===- VgcuEnums.td - Enums of the vgcu dialect alone -----------------*- tablegen -*-===//
//
// Kept apart from the op definitions so that enum generation sees only these; the enums
// shared with gcu come from dialects/common/CommonEnums.td (included by VgcuBase.td).
//
//===----------------------------------------------------------------------===//

#ifndef VGCU_ENUMS_TD
#define VGCU_ENUMS_TD

include "mlir/IR/EnumAttr.td"

def Vgcu_ComparePredicate : I32EnumAttr<"ComparePredicate", "elementwise comparison", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>, I32EnumAttrCase<"lt", 2>,
    I32EnumAttrCase<"le", 3>, I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>
  ]> {
  let cppNamespace = "::vgcu";
  let genSpecializedAttr = 0;
}

#endif // VGCU_ENUMS_TD
