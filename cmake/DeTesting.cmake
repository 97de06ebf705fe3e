# de_add_unit_test(NAME SOURCES... LIBS ...): one doctest executable, registered
# with CTest. doctest's implementation and main() are compiled once for all of
# them (the object library de_doctest_main, from a generated source), so test
# files only include <doctest/doctest.h>.
#
# DE_UNIT_UNITY (ON by default): each unit-test executable is compiled as one
# unity translation unit, so the heavy headers (CLI11, nlohmann/json, Asio) are
# parsed once per executable instead of once per test file; unit tests were a
# quarter of the build's CPU time. Test files therefore keep their helpers in
# distinct names (support/ holds what they share). OFF compiles every file
# alone (to check its own includes).
option(DE_UNIT_UNITY "Compile each unit-test executable as one translation unit" ON)
set(DE_DOCTEST_MAIN ${CMAKE_BINARY_DIR}/doctest_main.cpp)
file(WRITE ${DE_DOCTEST_MAIN}.in
  "#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n")
configure_file(${DE_DOCTEST_MAIN}.in ${DE_DOCTEST_MAIN} COPYONLY)
add_library(de_doctest_main OBJECT ${DE_DOCTEST_MAIN})
target_link_libraries(de_doctest_main PRIVATE doctest::doctest de_options)

function(de_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} $<TARGET_OBJECTS:de_doctest_main>)
  target_link_libraries(${name} PRIVATE doctest::doctest ${ARG_LIBS} de_options)
  # support/: what the test files share (temp_dir.hpp).
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
  # A test driver needs no -O2: at -O1 the unity units compile in half the
  # time (unit_lib: 39 s -> 18 s). The code under test keeps its own flags.
  target_compile_options(${name} PRIVATE $<$<CONFIG:RelWithDebInfo,Release>:-O1>)
  if(DE_UNIT_UNITY)
    set_target_properties(${name} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 0)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
