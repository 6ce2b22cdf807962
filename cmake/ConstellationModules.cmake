# SPDX-License-Identifier: Apache-2.0
#
# cst_add_module(<name> LAYER <layer> [DEPENDS <module>...] [THIRD_PARTY <target>...]
#                [GENERATED <generated .cpp>...])
#
# Declares one module of libconstellation: an OBJECT library `constellation_<name>` (slashes in
# the name become underscores) built from libconstellation/src/<name>/*.cpp. DEPENDS names the
# modules it may use — the layer table in docs/architecture.md — and THIRD_PARTY the external
# libraries its .cpp files use (linked PRIVATE, so they never leak into public headers).
#
# The module list, layers and edges are also written to ${CMAKE_BINARY_DIR}/modules.txt, which
# cmake/check_layers.py reads to fail the build when a file includes a module, adapter or
# third-party I/O header that its layer does not allow.

set(CST_LAYERS core pure adapter composition test-support)
set_property(GLOBAL PROPERTY CST_MODULES "")
set_property(GLOBAL PROPERTY CST_THIRD_PARTY "")

function(cst_add_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "LAYER" "DEPENDS;THIRD_PARTY;GENERATED")
  if(NOT arg_LAYER IN_LIST CST_LAYERS)
    message(FATAL_ERROR "cst_add_module(${name}): LAYER must be one of ${CST_LAYERS}")
  endif()
  string(REPLACE "/" "_" target "constellation_${name}")
  set(dir "${PROJECT_SOURCE_DIR}/libconstellation/src/${name}")
  file(GLOB sources CONFIGURE_DEPENDS "${dir}/*.cpp")
  list(APPEND sources ${arg_GENERATED})
  if(NOT sources)
    message(FATAL_ERROR "cst_add_module(${name}): no sources in ${dir}")
  endif()
  add_library(${target} OBJECT ${sources})
  target_include_directories(${target} PUBLIC
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/libconstellation/include>"
    "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/libconstellation/src>"
    "$<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/libconstellation/include>")
  target_compile_definitions(${target} PRIVATE CST_BUILDING_LIBRARY)
  target_link_libraries(${target} PRIVATE constellation_warnings)
  foreach(dep IN LISTS arg_DEPENDS)
    string(REPLACE "/" "_" dep_target "constellation_${dep}")
    if(NOT TARGET ${dep_target})
      message(FATAL_ERROR "cst_add_module(${name}): module '${dep}' must be declared before it")
    endif()
    target_link_libraries(${target} PUBLIC ${dep_target})
  endforeach()
  if(arg_THIRD_PARTY)
    target_link_libraries(${target} PRIVATE ${arg_THIRD_PARTY})
    set_property(GLOBAL APPEND PROPERTY CST_THIRD_PARTY ${arg_THIRD_PARTY})
  endif()
  set_property(GLOBAL APPEND PROPERTY CST_MODULES ${name})
  set_property(GLOBAL PROPERTY CST_MODULE_${target}_LAYER ${arg_LAYER})
  set_property(GLOBAL PROPERTY CST_MODULE_${target}_DEPENDS "${arg_DEPENDS}")
endfunction()

# Writes modules.txt: one line per module, "<name> <layer> <dep>,<dep>,...".
function(cst_write_module_manifest path)
  get_property(modules GLOBAL PROPERTY CST_MODULES)
  set(text "")
  foreach(name IN LISTS modules)
    string(REPLACE "/" "_" target "constellation_${name}")
    get_property(layer GLOBAL PROPERTY CST_MODULE_${target}_LAYER)
    get_property(deps GLOBAL PROPERTY CST_MODULE_${target}_DEPENDS)
    string(REPLACE ";" "," deps "${deps}")
    if(deps STREQUAL "")
      set(deps "-")
    endif()
    string(APPEND text "${name} ${layer} ${deps}\n")
  endforeach()
  file(GENERATE OUTPUT "${path}" CONTENT "${text}")
endfunction()
