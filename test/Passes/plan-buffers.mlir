// vgcu-plan-buffers: every gcu.alloc gets an arena slot; a slot is reused once the last use of
// its buffer, through any view of it, is done; returned buffers keep theirs to the end.
// RUN: vgcu-opt %s --vgcu-plan-buffers --split-input-file | FileCheck %s

// A chain: the first buffer is dead once the second is computed, so the third takes its slot.
// CHECK-LABEL: func.func @chain
// CHECK-SAME: vgcu.slots = 2
// CHECK: %[[A:.*]] = gcu.alloc(%{{.*}}) {slot = 0 : i64}
// CHECK: %[[B:.*]] = gcu.alloc(%{{.*}}) {slot = 1 : i64}
// CHECK: %[[C:.*]] = gcu.alloc(%{{.*}}) {slot = 0 : i64}
func.func @chain(%x: memref<?x64xf32>, %out: memref<?x64xf32>) {
  %n = gcu.dim %x, 0 : memref<?x64xf32>
  %a = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>)
  %b = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%a : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %c = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%b : memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  gcu.unary copy ins(%c : memref<?x64xf32>) outs(%out : memref<?x64xf32>)
  return
}

// -----

// A view used later keeps its buffer alive: the third allocation cannot take the first's slot.
// CHECK-LABEL: func.func @view_keeps_alive
// CHECK-SAME: vgcu.slots = 3
// CHECK: gcu.alloc(%{{.*}}) {slot = 0 : i64}
// CHECK: gcu.alloc(%{{.*}}) {slot = 1 : i64}
// CHECK: gcu.alloc(%{{.*}}) {slot = 2 : i64}
func.func @view_keeps_alive(%x: memref<?x64xf32>, %out: memref<?x4x16xf32>) {
  %n = gcu.dim %x, 0 : memref<?x64xf32>
  %a = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>)
  %heads = gcu.reshape_view %a : memref<?x64xf32> -> memref<?x4x16xf32>
  %b = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%x : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %c = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%b : memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  gcu.unary copy ins(%heads : memref<?x4x16xf32>) outs(%out : memref<?x4x16xf32>)
  return
}

// -----

// A returned buffer is live to the end; the dead one before it is reused.
// CHECK-LABEL: func.func @returned
// CHECK-SAME: vgcu.slots = 2
// CHECK: gcu.alloc(%{{.*}}) {slot = 0 : i64}
// CHECK: gcu.alloc(%{{.*}}) {slot = 1 : i64}
// CHECK: gcu.alloc(%{{.*}}) {slot = 0 : i64}
func.func @returned(%x: memref<?x64xf32>) -> memref<?x64xf32> {
  %n = gcu.dim %x, 0 : memref<?x64xf32>
  %a = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%x : memref<?x64xf32>) outs(%a : memref<?x64xf32>)
  %b = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%a : memref<?x64xf32>) outs(%b : memref<?x64xf32>)
  %c = gcu.alloc(%n) : memref<?x64xf32>
  gcu.unary neg ins(%b : memref<?x64xf32>) outs(%c : memref<?x64xf32>)
  return %b : memref<?x64xf32>
}
