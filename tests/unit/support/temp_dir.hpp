// What the unit tests share: a temporary folder that a test case removes when
// it ends, and whole-file writes and reads. One definition for every test
// file, which matters as each unit-test executable is one unity translation
// unit (DE_UNIT_UNITY).
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace de::test {

// $TMPDIR/PREFIX.XXXXXX, made with mkdtemp; removed with all it holds.
class TempDir {
  public:
    explicit TempDir(std::string_view prefix = "de-unit") {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + ".XXXXXX")).string();
        if (!::mkdtemp(tmpl.data()))
            throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::filesystem::path path;
};

// Writes `text` as the whole of `file`, creating its folders.
inline void write_file(const std::filesystem::path& file, std::string_view text) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

// The whole of `file`; "" when it cannot be read.
inline std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace de::test
