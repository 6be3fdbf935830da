#include "uvchat/chat/name_map.hpp"

#include <cstdint>
#include <cstring>

namespace uvchat::chat {
namespace {

// Names are ASCII and at most 32 bytes, and every DM looks its recipient up,
// so both hashing and comparing take eight bytes at a time.
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;

// Eight bytes from `text` at `at`, where at < text.size(). Past the last
// whole word: the last eight bytes when the text has eight (they overlap
// the word before, which is harmless for hashing and comparing), else the
// bytes there and zeros.
std::uint64_t eight_bytes(std::string_view text, std::size_t at) {
  std::uint64_t chunk = 0;
  if (at + 8 > text.size() && text.size() >= 8) at = text.size() - 8;
  if (at + 8 <= text.size()) {
    std::memcpy(&chunk, text.data() + at, 8);
    return chunk;
  }
  for (std::size_t i = at; i < text.size(); ++i) {
    chunk |= std::uint64_t{static_cast<unsigned char>(text[i])} << (8 * (i - at));
  }
  return chunk;
}

// The ASCII letters of eight bytes lowered at once: for a byte below 0x80,
// its low seven bits plus (0x80 - 'A') reach the high bit when it is 'A' or
// more, plus (0x7F - 'Z') when it is past 'Z'; neither addition carries into
// the next byte. Bytes from 0x80 up are left alone.
std::uint64_t lowered(std::uint64_t chunk) {
  const std::uint64_t low_bits = chunk & (0x7F * kOnes);
  const std::uint64_t from_a = low_bits + (0x80 - 'A') * kOnes;
  const std::uint64_t past_z = low_bits + (0x7F - 'Z') * kOnes;
  const std::uint64_t upper = from_a & ~past_z & ~chunk & (0x80 * kOnes);
  return chunk | (upper >> 2);  // 0x80 >> 2 is the case bit, 0x20
}

}  // namespace

std::size_t CaseInsensitiveHash::operator()(std::string_view text) const {
  std::uint64_t hash = text.size();
  for (std::size_t at = 0; at < text.size(); at += 8) {
    hash = (hash ^ lowered(eight_bytes(text, at))) * 0x9E3779B97F4A7C15ULL;
    hash ^= hash >> 32;
  }
  return static_cast<std::size_t>(hash);
}

// Two names that match are nearly always spelt the same: bytes first
// (callgrind: half the instructions for the hub's lookups and for the
// store's grouping by conversation).
bool CaseInsensitiveEqual::operator()(std::string_view a, std::string_view b) const noexcept {
  if (a.size() != b.size()) return false;
  if (a == b) return true;
  for (std::size_t at = 0; at < a.size(); at += 8) {
    if (lowered(eight_bytes(a, at)) != lowered(eight_bytes(b, at))) return false;
  }
  return true;
}

}  // namespace uvchat::chat
