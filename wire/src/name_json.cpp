// See name_json.hpp.
#include <de/name_json.hpp>

namespace de {

namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when the byte
// there does not start one.
std::size_t utf8_seq(std::string_view s, std::size_t i) {
    auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = at(i);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;  // no overlong forms
        if (c == 0xed) hi = 0x9f;  // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;  // no overlong forms
        if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (s.size() - i < n) return 0;
    if (at(i + 1) < lo || at(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
        if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
    return n;
}

constexpr char k_hex[] = "0123456789ABCDEF";

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void put_hex(std::string& out, std::string_view prefix, unsigned char c) {
    out.append(prefix);
    out.push_back(k_hex[c >> 4]);
    out.push_back(k_hex[c & 15]);
}

std::string encoding_key(std::string_view key) {
    std::string k(key);
    k.append(k_name_encoding_suffix);
    return k;
}

}  // namespace

bool is_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t n = utf8_seq(text, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string name_to_percent(std::string_view name) {
    std::string out;
    out.reserve(name.size() + 8);
    std::size_t i = 0;
    while (i < name.size()) {
        std::size_t n = utf8_seq(name, i);
        if (n == 0) {
            put_hex(out, "%", static_cast<unsigned char>(name[i]));
            ++i;
        } else if (name[i] == '%') {
            out.append("%25");
            ++i;
        } else {
            out.append(name.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::optional<std::string> name_from_percent(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (text.size() - i < 3) return std::nullopt;
        int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

void put_name(nlohmann::json& j, std::string_view key, std::string_view name) {
    std::string k(key);
    if (is_utf8(name)) {
        j[k] = std::string(name);
        if (j.is_object()) j.erase(encoding_key(key));
        return;
    }
    j[k] = name_to_percent(name);
    j[encoding_key(key)] = std::string(k_name_encoding_percent);
}

std::optional<std::string> get_name(const nlohmann::json& j, std::string_view key) {
    if (!j.is_object()) return std::nullopt;
    auto it = j.find(std::string(key));
    if (it == j.end() || !it->is_string()) return std::nullopt;
    const auto& text = it->get_ref<const std::string&>();
    auto enc = j.find(encoding_key(key));
    if (enc == j.end() || enc->is_null()) return text;
    if (!enc->is_string() || enc->get_ref<const std::string&>() != k_name_encoding_percent)
        return std::nullopt;
    return name_from_percent(text);
}

nlohmann::json name_value(std::string_view name) {
    if (is_utf8(name)) return std::string(name);
    nlohmann::json j = nlohmann::json::object();
    put_name(j, "name", name);
    return j;
}

std::optional<std::string> name_from_value(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    return get_name(v, "name");
}

std::string display_name(std::string_view name) {
    bool clean = true;
    for (std::size_t i = 0; i < name.size() && clean;) {
        std::size_t n = utf8_seq(name, i);
        auto c = static_cast<unsigned char>(name[i]);
        if (n == 0 || c < 0x20 || c == 0x7f) clean = false;
        i += n == 0 ? 1 : n;
    }
    if (clean) return std::string(name);
    std::string out;
    out.reserve(name.size() + 16);
    std::size_t i = 0;
    while (i < name.size()) {
        std::size_t n = utf8_seq(name, i);
        auto c = static_cast<unsigned char>(name[i]);
        if (n == 0 || c < 0x20 || c == 0x7f) {
            put_hex(out, "\\x", c);
            ++i;
        } else if (c == '\\') {
            out.append("\\\\");
            ++i;
        } else {
            out.append(name.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::string dump_json(const nlohmann::json& j, int indent, bool ensure_ascii) {
    return j.dump(indent, ' ', ensure_ascii, nlohmann::json::error_handler_t::replace);
}

}  // namespace de
