# vgcu_add_plugin(NAME SOURCES...): a model plugin, the shared library vgcu-compile loads
# with --load-plugin (or VGCU_PLUGINS). It links vgcu's model library, whose public headers
# (vgcu/Models/*.h) are what a plugin is written against.
function(vgcu_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE vgcu::VgcuBuiltinModels)
  target_include_directories(${name} SYSTEM PRIVATE ${MLIR_INCLUDE_DIRS} ${LLVM_INCLUDE_DIRS})
  target_compile_features(${name} PRIVATE cxx_std_17)
endfunction()
