#include "uvchat/chat/name_map.hpp"

#include <cstdint>

#include "uvchat/protocol/text.hpp"

namespace uvchat::chat {

std::size_t CaseInsensitiveHash::operator()(std::string_view text) const {
  // FNV-1a: names are at most 32 bytes, so a simple byte hash is plenty.
  std::uint64_t hash = 14695981039346656037ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(protocol::to_lower(c));
    hash *= 1099511628211ULL;
  }
  return static_cast<std::size_t>(hash);
}

bool CaseInsensitiveEqual::operator()(std::string_view a, std::string_view b) const noexcept {
  return protocol::equal_case_insensitive(a, b);
}

}  // namespace uvchat::chat
