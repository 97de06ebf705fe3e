// A request as de-server reads it: Beast's parser (header limit 16 KiB, as the
// server sets it) fed in pieces, then check_framing() on the header, then the
// body (chunked or Content-Length) through the parser. Invariants: a header
// check_framing accepts has exactly the framing Beast uses to read the body
// (same chunked flag, same Content-Length), so the two can never disagree on
// where the body ends; check_framing answers 0, 400 or 501 with a message;
// a chunked body Beast completes is no longer than the bytes that carried it.
#include "fuzz_check.hpp"

#include "http_framing.hpp"
#include "http_parse.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::size_t piece = data[0] % 32 + 1;
    std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

    http::request_parser<http::string_body> p;
    p.header_limit(16 * 1024);
    p.body_limit(1 << 20);
    p.eager(true);
    boost::system::error_code ec;
    // Beast wants the unconsumed bytes offered again with the next piece.
    std::size_t used = 0, avail = 0;
    bool checked = false;
    while (!p.is_done()) {
        bool all = avail == in.size();
        avail = std::min(in.size(), avail + piece);
        std::size_t n = p.put(boost::asio::buffer(in.data() + used, avail - used), ec);
        if (ec == http::error::need_more) ec = {};
        if (ec) break;
        if (all && n == 0) break;  // out of input: the message is incomplete
        used += n;
        if (p.is_header_done() && !checked) {
            checked = true;
            auto f = de::server::check_framing(p.get().base());
            FUZZ_CHECK(f.status == 0 || f.status == 400 || f.status == 501);
            FUZZ_CHECK((f.status == 0) == f.message.empty());
            if (f.status != 0) return 0;  // the server answers and closes here
            FUZZ_CHECK(f.chunked == p.chunked());
            if (f.chunked) {
                FUZZ_CHECK(!f.content_length);
            } else if (f.content_length) {
                FUZZ_CHECK(p.content_length() && *p.content_length() == *f.content_length);
            } else {
                // No framing header in a request: no body.
                FUZZ_CHECK(!p.content_length());
            }
        }
    }
    if (p.is_done() && checked) FUZZ_CHECK(p.get().body().size() <= used);
    return 0;
}
