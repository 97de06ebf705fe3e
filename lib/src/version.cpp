// See de/version.hpp.
#include <de/version.hpp>

#include <curl/curl.h>
#include <openssl/crypto.h>

namespace de {

std::string_view libde_version() {
    return DE_LIBDE_VERSION;
}

std::string libcurl_version() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    if (info == nullptr || info->version == nullptr) return "unknown";
    std::string text = info->version;
    if (info->ssl_version != nullptr && *info->ssl_version != '\0')
        text += std::string(" (") + info->ssl_version + ")";
    return text;
}

std::string openssl_version() {
    const char* text = OpenSSL_version(OPENSSL_VERSION);
    return text != nullptr ? std::string(text) : std::string("unknown");
}

}  // namespace de
