# de_add_unit_test(NAME SOURCES... LIBS ...): one doctest executable, registered
# with CTest. doctest's implementation and main() are compiled once, in a
# generated source, so test files only include <doctest/doctest.h>.
set(DE_DOCTEST_MAIN ${CMAKE_BINARY_DIR}/doctest_main.cpp)
file(WRITE ${DE_DOCTEST_MAIN}.in
  "#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN\n#include <doctest/doctest.h>\n")
configure_file(${DE_DOCTEST_MAIN}.in ${DE_DOCTEST_MAIN} COPYONLY)

function(de_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${DE_DOCTEST_MAIN} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE doctest::doctest ${ARG_LIBS} de_options)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()
