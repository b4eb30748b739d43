// vgcu-opt registers the vgcu and gcu dialects (and func, for the test inputs).
// RUN: vgcu-opt --show-dialects | FileCheck %s

// CHECK: Available Dialects:
// CHECK-SAME: func
// CHECK-SAME: gcu
// CHECK-SAME: vgcu
