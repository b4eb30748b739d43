//===- CommonEnums.cpp - Enums shared by the vgcu and gcu dialects ----------------===//

#include "dialects/common/CommonEnums.h"

#include "dialects/common/CommonEnums.cpp.inc"
