//===- GemmKernelsAvx2.cpp - The decode GEMM kernels built for AVX2 ------------------===//
//
// Compiled with AVX2's -m flags (lib/Kernels/CMakeLists.txt) and called only after
// GemmKernels.cpp has checked the CPU, so the rest of vgcu keeps the baseline x86-64 target.
//
//===----------------------------------------------------------------------===//

#define VGCU_SIMD_AVX2
#include "GemmKernelTable.h"
#include "SimdVector.h"

#include <algorithm>
#include <type_traits>

#include "GemmKernelsSimd.inc"
