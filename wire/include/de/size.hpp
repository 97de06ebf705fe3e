#pragma once
// Byte sizes: parsing what users type ("500MiB", "25GB", "1.5G", "4096") and
// printing sizes for people. Decimal units (KB, MB, GB, TB) are powers of 1000,
// binary units (KiB, MiB, ...) and the bare letters K, M, G, T (as rsync reads
// them) are powers of 1024.

#include <de/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace de {

Result<std::uint64_t> parse_size(std::string_view text);

// "0 B", "512 B", "1.5 KiB", "23.4 GiB": at most one decimal, IEC units.
std::string format_size(std::uint64_t bytes);

}  // namespace de
