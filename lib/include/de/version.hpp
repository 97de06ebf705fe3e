#pragma once
// The versions `de-cli --version` reports: libde's own (the project version,
// defined once by CMake's project(VERSION)) and those of the libraries libde
// links. libcurl stays private to libde: these return plain strings.

#include <string>
#include <string_view>

namespace de {

// libde's version, e.g. "0.1.0".
std::string_view libde_version();
// libcurl's version and TLS backend as libcurl reports them at run time,
// e.g. "8.5.0 (OpenSSL/3.0.13)".
std::string libcurl_version();
// The OpenSSL libde links (for hashing), e.g. "OpenSSL 3.0.13 30 Jan 2024".
std::string openssl_version();

}  // namespace de
