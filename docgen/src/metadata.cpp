// Version and date come from CMake definitions on this one file, so a date
// bump rebuilds only it.

#include <de/docgen.hpp>

#ifndef DE_DOCGEN_VERSION
#error "DE_DOCGEN_VERSION is set by docgen/CMakeLists.txt"
#endif
#ifndef DE_DOCGEN_DATE
#error "DE_DOCGEN_DATE is set by docgen/CMakeLists.txt"
#endif

namespace de::docgen {

std::string_view project_version() {
    return DE_DOCGEN_VERSION;
}
std::string_view docs_date() {
    return DE_DOCGEN_DATE;
}

}  // namespace de::docgen
