#pragma once
// de-server's TLS settings (--tls-cert/--tls-key): one OpenSSL server context
// shared by every connection. Loading it checks everything a handshake would
// need, so a missing or unreadable file, a malformed PEM, an encrypted key or
// a key that does not match the certificate stop the server before it listens.
//
// Server defaults: TLS 1.2 at least; for TLS 1.2 only ECDHE key exchange with
// AEAD ciphers (AES-GCM, ChaCha20-Poly1305), TLS 1.3 with OpenSSL's suites;
// no compression, no renegotiation; ALPN answers "http/1.1" (the only
// protocol spoken). Client certificates are not asked for: clients
// authenticate with HTTP Basic or a bearer token, as over plain HTTP.

#include <de/error.hpp>

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace de::server {

struct TlsContext {
    std::unique_ptr<boost::asio::ssl::context> context;
    std::string summary;  // for the log: the certificate's subject and expiry
};

// `cert`: PEM, the server's certificate first, then any intermediate ones;
// `key`: its unencrypted PEM private key.
de::Result<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                        const std::filesystem::path& key);

}  // namespace de::server
