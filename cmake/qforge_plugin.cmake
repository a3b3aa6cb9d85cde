# qforge_add_plugin(<name> SOURCES <file>... [LINK_LIBRARIES <target>...])
#
# Builds one qforge plugin two ways from the same sources (see
# include/qforge/plugin.h and docs/writing_a_plugin.md):
#   <name>         static library: link it and call
#                  qforge::RegisterPlugin(<accessor>(), registry).
#   <name>_module  shared library libqforge_<name>.so (a CMake MODULE,
#                  compiled with QFORGE_PLUGIN_MODULE so that
#                  QFORGE_DEFINE_PLUGIN also emits the extern "C" entry
#                  point) for qforge::LoadPlugin / `qforge --plugin`.
# The module does not link qforge: its references resolve against the
# process that loads it, so that plugin and host share one qforge.
#
# Included by qforge's own build and by the installed qforgeConfig.cmake.
function(qforge_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "" "SOURCES;LINK_LIBRARIES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "qforge_add_plugin(${name}): no SOURCES")
  endif()
  if(TARGET qforge_internal)
    # qforge's own tree: tests and tools link the static qforge_internal.
    set(host qforge_internal)
    set(api qforge_plugin_api)
  else()
    set(host qforge::qforge)
    set(api qforge::plugin_api)
  endif()

  add_library(${name} STATIC ${ARG_SOURCES})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_features(${name} PUBLIC cxx_std_20)
  target_link_libraries(${name} PUBLIC ${host} ${ARG_LINK_LIBRARIES})

  add_library(${name}_module MODULE ${ARG_SOURCES})
  target_compile_definitions(${name}_module PRIVATE QFORGE_PLUGIN_MODULE)
  target_compile_features(${name}_module PRIVATE cxx_std_20)
  set_target_properties(${name}_module PROPERTIES
    OUTPUT_NAME qforge_${name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_link_libraries(${name}_module PRIVATE ${api} ${ARG_LINK_LIBRARIES})
endfunction()
