// Loads --tls-cert/--tls-key into an OpenSSL server context (tls.hpp) and
// sets the server's TLS defaults. Every failure is a message naming the flag,
// the file and OpenSSL's reason, so a bad file stops de-server at start-up
// instead of failing each handshake.
#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace de::server {

namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the last failure, its error queue then emptied. The
// earliest error is the precise one ("no start line"); later ones are the
// callers' ("PEM lib").
std::string openssl_reason() {
    unsigned long e = ERR_peek_error();
    std::string text;
    if (e != 0) {
        const char* reason = ERR_reason_error_string(e);
        text = reason ? reason : fmt::format("OpenSSL error {:#x}", e);
    }
    ERR_clear_error();
    return text.empty() ? std::string("unknown OpenSSL error") : text;
}

// open(2)'s answer first: "No such file or directory" or "Permission denied"
// says more than the PEM parser's reason for the same file.
de::Status check_readable(const char* flag, const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return de::fail(de::ErrorKind::generic, fmt::format("{} {}: cannot read it: {}", flag,
                                                            path.string(), std::strerror(errno)));
    ::close(fd);
    return {};
}

// The only protocol spoken: ALPN answers http/1.1 when the client offers it
// (curl offers h2 first) and nothing otherwise.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
    static const unsigned char k_http11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, k_http11, sizeof k_http11, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

// An encrypted key is refused rather than prompted for on the terminal.
int no_passphrase(char*, int, int, void*) {
    return 0;
}

std::string describe_certificate(X509* cert) {
    std::string subject = "?", until = "?";
    if (BIO* b = BIO_new(BIO_s_mem())) {
        char* data = nullptr;
        if (X509_NAME_print_ex(b, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
            long n = BIO_get_mem_data(b, &data);
            subject.assign(data, static_cast<std::size_t>(n));
        }
        (void)BIO_reset(b);
        if (ASN1_TIME_print(b, X509_get0_notAfter(cert)) == 1) {
            long n = BIO_get_mem_data(b, &data);
            until.assign(data, static_cast<std::size_t>(n));
        }
        BIO_free(b);
    }
    bool expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
    return fmt::format("certificate {}, valid until {}{}", subject, until,
                       expired ? " (EXPIRED: clients will refuse it)" : "");
}

}  // namespace

de::Result<TlsContext> make_tls_context(const std::filesystem::path& cert,
                                        const std::filesystem::path& key) {
    if (auto ok = check_readable("--tls-cert", cert); !ok) return std::unexpected(ok.error());
    if (auto ok = check_readable("--tls-key", key); !ok) return std::unexpected(ok.error());

    TlsContext tls;
    tls.context = std::make_unique<ssl::context>(ssl::context::tls_server);
    SSL_CTX* ctx = tls.context->native_handle();
    auto fail = [](std::string message) {
        ERR_clear_error();
        return std::unexpected(de::Error{de::ErrorKind::generic, std::move(message), 0, {}});
    };

    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
        return fail("cannot set up TLS: " + openssl_reason());
    SSL_CTX_set_options(
        ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);

    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
        return fail(fmt::format("--tls-cert {}: not a PEM certificate (chain): {}", cert.string(),
                                openssl_reason()));

    BIO* kb = BIO_new_file(key.c_str(), "r");
    EVP_PKEY* pkey = kb ? PEM_read_bio_PrivateKey(kb, nullptr, no_passphrase, nullptr) : nullptr;
    if (kb) BIO_free(kb);
    if (!pkey)
        return fail(fmt::format("--tls-key {}: not an unencrypted PEM private key: {}",
                                key.string(), openssl_reason()));
    bool matches = SSL_CTX_use_PrivateKey(ctx, pkey) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(pkey);
    if (!matches)
        return fail(fmt::format("--tls-key {} does not match the certificate in --tls-cert {} ({})",
                                key.string(), cert.string(), openssl_reason()));

    tls.summary = describe_certificate(SSL_CTX_get0_certificate(ctx));
    return tls;
}

}  // namespace de::server
