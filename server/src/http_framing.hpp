#pragma once
// check_framing() (http_parse.hpp) on a header Beast has parsed: the field
// lines that decide where a body ends (Host, Content-Length,
// Transfer-Encoding), each line as it came. One place for the server
// (exchange.hpp) and the fuzz target that compares it with Beast's own reading.

#include "http_parse.hpp"

#include <boost/beast/http.hpp>

#include <string_view>
#include <vector>

namespace de::server {

inline Framing check_framing(const boost::beast::http::request_header<>& h) {
    namespace http = boost::beast::http;
    FramingFields f;
    f.version = h.version();
    auto lines = [&](http::field name, std::vector<std::string_view>& out) {
        auto [b, e] = h.equal_range(name);
        for (auto it = b; it != e; ++it)
            out.emplace_back(it->value().data(), it->value().size());
    };
    lines(http::field::host, f.host);
    lines(http::field::content_length, f.content_length);
    lines(http::field::transfer_encoding, f.transfer_encoding);
    return check_framing(f);
}

}  // namespace de::server
