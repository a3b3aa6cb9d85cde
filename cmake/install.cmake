# Installs the library, headers and a CMake package so that consumers can
# `find_package(qforge CONFIG)` and link `qforge::qforge` / `qforge::testing`,
# and build plugins with qforge_add_plugin() (qforge::plugin_api).
include(CMakePackageConfigHelpers)

install(TARGETS qforge qforge_testing qforge_plugin_api
        EXPORT qforgeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/qforge
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT qforgeTargets
        NAMESPACE qforge::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qforge)
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/qforgeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/qforgeConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qforge)
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/qforgeConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/qforgeConfig.cmake
              ${PROJECT_BINARY_DIR}/qforgeConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/qforge_plugin.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/qforge)
