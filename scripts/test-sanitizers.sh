#!/usr/bin/env bash
# Builds all of vgcu with AddressSanitizer + UndefinedBehaviorSanitizer in build-asan/ and runs
# the unit tests and the lit suite on those binaries: 16 to 40 minutes from a clean clone on two
# cores. CI runs it after scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
BUILD_DIR=build-asan ./scripts/build.sh -DVGCU_SANITIZE=ON
# Leaks are not checked: MLIR contexts and the model registry are process-lifetime on purpose.
# User poisoning is off because LLVM's BumpPtrAllocator poisons slabs in instrumented inline
# code that the uninstrumented libMLIR then fills (see scripts/fuzz.sh). An allocation too
# large to satisfy fails as it would without ASan (the KV cache turns that into an error).
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0:allow_user_poisoning=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "== unit tests (ASan + UBSan)"
build-asan/bin/vgcu-unittests --gtest_brief=1
echo "== lit (ASan + UBSan)"
/usr/lib/llvm-22/bin/lit -sv build-asan/test
