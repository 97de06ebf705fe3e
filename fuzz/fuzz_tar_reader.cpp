// The batch upload's streaming tar reader on any bytes, fed twice: whole, and
// in pieces whose sizes the first input byte chooses. Both runs must see the
// same members with the same contents and end the same way (a push parser may
// not depend on where the network cut the stream). Every member's path but the
// root's ("") passes clean_tar_path unchanged, a file hands over exactly its size in data, a
// folder none, and begin/data/end come in order.
#include "fuzz_check.hpp"

#include <de/tar_reader.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {
using namespace de;
using de::api::ApiResult;

class Recorder : public TarHandler {
  public:
    std::string log;
    bool open = false;
    std::uint64_t expected = 0;
    std::uint64_t got = 0;

    ApiResult<void> begin(const TarMember& m) override {
        FUZZ_CHECK(!open);
        // "" is the mount root ("./" or "." in an archive): the batch handler
        // takes it as a folder and refuses it as a file. clean_tar_path refuses
        // an empty path, so the root is the one path it does not give back.
        if (!m.path.empty()) {
            auto clean = clean_tar_path(m.path);
            FUZZ_CHECK(clean && *clean == m.path);
        }
        if (m.type == TarMember::Type::dir) FUZZ_CHECK(m.size == 0);
        if (m.sha256) {
            FUZZ_CHECK(m.sha256->size() == 64);
            for (char c : *m.sha256)
                FUZZ_CHECK((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
        }
        open = true;
        expected = m.size;
        got = 0;
        log += "B" + m.path + '\0' + (m.type == TarMember::Type::dir ? "d" : "f") +
               std::to_string(m.size) + ":" + (m.mtime_ns ? std::to_string(*m.mtime_ns) : "-") +
               ":" + m.sha256.value_or("-") + '\0';
        return {};
    }
    ApiResult<void> data(std::string_view bytes) override {
        FUZZ_CHECK(open);
        got += bytes.size();
        FUZZ_CHECK(got <= expected);
        log.append(bytes);
        return {};
    }
    ApiResult<void> end() override {
        FUZZ_CHECK(open);
        FUZZ_CHECK(got == expected);
        open = false;
        log += "E";
        return {};
    }
};

struct Outcome {
    std::string log;
    bool fed = false;
    bool finished = false;
    bool ended = false;
    std::uint64_t members = 0;
};

Outcome run(std::string_view archive, std::size_t piece) {
    TarReader reader;
    Recorder rec;
    Outcome o;
    o.fed = true;
    while (!archive.empty() && o.fed) {
        std::size_t n = piece == 0 ? archive.size() : std::min(piece, archive.size());
        o.fed = static_cast<bool>(reader.feed(archive.substr(0, n), rec));
        archive.remove_prefix(n);
    }
    o.finished = o.fed && static_cast<bool>(reader.finish());
    if (o.finished) FUZZ_CHECK(!rec.open);
    o.ended = reader.ended();
    o.members = reader.members();
    o.log = std::move(rec.log);
    return o;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    // Pieces of 1..256 bytes, or (0) the whole at once.
    std::size_t piece = data[0] == 0 ? 0 : data[0];
    std::string_view archive(reinterpret_cast<const char*>(data) + 1, size - 1);
    Outcome whole = run(archive, 0);
    Outcome cut = run(archive, piece);
    FUZZ_CHECK(whole.fed == cut.fed);
    FUZZ_CHECK(whole.finished == cut.finished);
    FUZZ_CHECK(whole.ended == cut.ended);
    FUZZ_CHECK(whole.members == cut.members);
    // On an error the pieces may have passed on part of a member's data the
    // whole did too; up to the error both saw the same bytes.
    if (whole.fed) FUZZ_CHECK(whole.log == cut.log);
    return 0;
}
