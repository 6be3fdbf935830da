#include "uvchat/chat/name_map.hpp"

#include <cstdint>

namespace uvchat::chat {
namespace {

unsigned char lower(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte >= 'A' && byte <= 'Z') ? static_cast<unsigned char>(byte - 'A' + 'a') : byte;
}

}  // namespace

std::size_t CaseInsensitiveHash::operator()(std::string_view text) const noexcept {
  // FNV-1a: names are at most 32 bytes, so a simple byte hash is plenty.
  std::uint64_t hash = 14695981039346656037ULL;
  for (char c : text) {
    hash ^= lower(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(hash);
}

bool CaseInsensitiveEqual::operator()(std::string_view a, std::string_view b) const noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace uvchat::chat
