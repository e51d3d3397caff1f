# Installs the CLI, the plugin ABI header, the C++ SDK and a CMake package so that a plugin outside this tree
# builds with:  find_package(conflux REQUIRED)  target_link_libraries(myplugin PRIVATE conflux::sdk)
include(CMakePackageConfigHelpers)

install(TARGETS conflux RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/conflux/abi ${PROJECT_SOURCE_DIR}/core/include/conflux/sdk
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/conflux)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/conflux/schemas)
install(TARGETS conflux_abi conflux_sdk EXPORT confluxTargets)
install(EXPORT confluxTargets NAMESPACE conflux:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/conflux)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/confluxConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/confluxConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/conflux
  PATH_VARS CMAKE_INSTALL_LIBDIR)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/confluxConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/confluxConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/confluxConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/conflux)
