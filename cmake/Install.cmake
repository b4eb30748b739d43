# cmake --install: the tools, every library, the public headers and a CMake package
# (lib/cmake/vgcu) that plugins build against with find_package(vgcu).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# What a plugin links (and what that links): exported as vgcu::<name>.
set(VGCU_EXPORTED_LIBS VgcuDialectCommon VgcuDialect GcuDialect VgcuSupport VgcuConfig
    VgcuWeights VgcuModels VgcuBuiltinModels)
foreach(lib ${VGCU_EXPORTED_LIBS})
  target_include_directories(${lib} INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  add_library(vgcu::${lib} ALIAS ${lib})
endforeach()
install(TARGETS ${VGCU_EXPORTED_LIBS} EXPORT vgcuTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS VgcuPasses VgcuCompiler VgcuArtifact VgcuKernels VgcuRuntime VgcuFrontend VgcuTokenizer
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS vgcu-opt vgcu-compile vgcu-run vgcu-tokenize vgcu-serve RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(DIRECTORY include/vgcu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The dialect and pass headers (and what TableGen generated for them), for plugins that
# emit vgcu ops or add passes of their own.
foreach(dir dialects passes)
  install(DIRECTORY ${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
  install(DIRECTORY ${PROJECT_BINARY_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/${dir}
          FILES_MATCHING PATTERN "*.inc" PATTERN "CMakeFiles" EXCLUDE)
endforeach()

install(EXPORT vgcuTargets NAMESPACE vgcu:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vgcu)
configure_package_config_file(cmake/vgcuConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/vgcuConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vgcu
                              PATH_VARS CMAKE_INSTALL_INCLUDEDIR)
install(FILES ${PROJECT_BINARY_DIR}/vgcuConfig.cmake cmake/VgcuPlugin.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vgcu)
