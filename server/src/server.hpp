#pragma once
// de-server's HTTP side: options, and run_server(), which listens, serves REST
// API v1 until SIGINT/SIGTERM, then drains and returns.

#include "fs.hpp"
#include "limits.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace de::server {

struct ServerOptions {
    std::filesystem::path root;
    std::string address = "127.0.0.1";
    unsigned short port = 8050;
    std::uint64_t quota_bytes = 25'000'000'000ULL;
    std::uint64_t max_entries = 1'000'000;  // files and folders per app (--max-entries)
    MinFree min_free;  // the free-space reserve on the root (default: min(1 GiB, 5 %))
    std::chrono::milliseconds header_timeout{30'000};     // time to send the request headers
    std::chrono::milliseconds body_timeout{60'000};       // a stalled body (no byte received)
    std::chrono::milliseconds send_timeout{60'000};       // a stalled reader (no byte sent)
    std::chrono::milliseconds shutdown_grace{5'000};      // in-flight requests on SIGTERM
    std::chrono::milliseconds upload_expiry{86'400'000};  // an untouched tus upload expires
    int threads = 3;
    LimitOptions limits;     // per-user holds, the descriptor reserve, failed-auth slowing
    std::string access_log;  // --access-log: a file for JSON lines, "-" stderr, "" none
    // HTTPS only when both are set (--tls-cert, --tls-key; tls.hpp); else plain HTTP.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
};

// Splits "ADDR:PORT" ("[::1]:80" for IPv6). False when malformed.
bool parse_listen(std::string_view text, std::string& address, unsigned short& port);

// Serves until a signal; returns the process exit code.
int run_server(const ServerOptions& options);

}  // namespace de::server
