# `cmake --install build --prefix P`: the public headers, dsv4-opt and dsv4-gen, the runtime shim,
# the compiler libraries, and lib/cmake/dsv4/dsv4Config.cmake for find_package(dsv4 CONFIG).
include(CMakePackageConfigHelpers)
set(DSV4_INSTALL_CMAKE_DIR lib${LLVM_LIBDIR_SUFFIX}/cmake/dsv4)

install(DIRECTORY include/dsv4 DESTINATION include)
# The TableGen'd headers, at the paths the headers include them by.
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/dsv4 DESTINATION include
  FILES_MATCHING PATTERN "*.h.inc")

# libMLIR.so stays where LLVM is installed (Debian: /usr/lib/llvm-22/lib), outside the prefix.
set_property(TARGET dsv4-opt dsv4-gen APPEND PROPERTY INSTALL_RPATH "${LLVM_LIBRARY_DIR}")
install(TARGETS dsv4-opt dsv4-gen RUNTIME DESTINATION bin)
# The AMDGPU linker in the layout gpu-module-to-binary expects (<toolkit>/llvm/bin/ld.lld), where
# an installed dsv4-opt looks first (lib/Target/Toolkit.cpp): the build tree may be gone.
install(DIRECTORY ${DSV4_TOOLKIT_DIR}/ DESTINATION lib/dsv4/toolkit)

# dsv4::runtime: plain C, no LLVM; what a serving process links.
set_target_properties(dsv4_runtime PROPERTIES EXPORT_NAME runtime)
install(TARGETS dsv4_runtime EXPORT dsv4RuntimeTargets
  LIBRARY DESTINATION lib${LLVM_LIBDIR_SUFFIX})
install(EXPORT dsv4RuntimeTargets NAMESPACE dsv4:: DESTINATION ${DSV4_INSTALL_CMAKE_DIR})

# The compiler libraries (dsv4::MLIRDsv4, ...): add_mlir_library installs them into the
# MLIRTargets export set, which is exported here under dsv4::, for C++ extenders of dsv4-opt.
install(EXPORT MLIRTargets NAMESPACE dsv4:: FILE dsv4CompilerTargets.cmake
  DESTINATION ${DSV4_INSTALL_CMAKE_DIR})

configure_package_config_file(cmake/dsv4Config.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/dsv4Config.cmake
  INSTALL_DESTINATION ${DSV4_INSTALL_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/dsv4ConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/dsv4Config.cmake
  ${PROJECT_BINARY_DIR}/cmake/dsv4ConfigVersion.cmake
  DESTINATION ${DSV4_INSTALL_CMAKE_DIR})
