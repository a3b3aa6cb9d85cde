# ctest fixture setup for the ONNX node conformance tests.
#
# cmake -DTOOL=<gen-onnx-node-tests.sh> -DOUT=<dir> -DRESULTS=<dir> -P generate_node_tests.cmake
#
# Generates the ONNX backend node tests into OUT/node with the shared tool
# (skipped when OUT holds a complete earlier generation) and empties the
# results folder the summary reads. Fails loudly when the tool is missing:
# the conformance suite must never pass without having run.
if(NOT EXISTS "${TOOL}")
  message(FATAL_ERROR
    "ONNX conformance: the test generator '${TOOL}' does not exist. "
    "It is expected in the shared tools folder next to the source tree "
    "(../shared/tools/gen-onnx-node-tests.sh); configure with "
    "-DQFORGE_ONNX_NODE_TEST_GENERATOR=<path> to point elsewhere.")
endif()
set(stamp "${OUT}/node/.qforge-generated")
if(NOT EXISTS "${stamp}")
  file(REMOVE_RECURSE "${OUT}")
  execute_process(COMMAND bash "${TOOL}" "${OUT}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ONNX conformance: '${TOOL} ${OUT}' failed (${rc})")
  endif()
  file(GLOB generated LIST_DIRECTORIES true "${OUT}/node/test_*")
  list(LENGTH generated count)
  if(count EQUAL 0)
    message(FATAL_ERROR "ONNX conformance: '${TOOL}' generated no tests in ${OUT}/node")
  endif()
  file(WRITE "${stamp}" "${count}\n")
  message(STATUS "ONNX conformance: generated ${count} node tests in ${OUT}/node")
else()
  message(STATUS "ONNX conformance: using the node tests in ${OUT}/node")
endif()
file(REMOVE_RECURSE "${RESULTS}")
file(MAKE_DIRECTORY "${RESULTS}")
