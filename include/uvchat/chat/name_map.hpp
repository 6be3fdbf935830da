// Maps keyed by a name or room, compared case-insensitively (ASCII), so that
// a lookup needs neither a folded copy nor an allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace uvchat::chat {

struct CaseInsensitiveHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept;
};

struct CaseInsensitiveEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

template <class Value>
using NameMap = std::unordered_map<std::string, Value, CaseInsensitiveHash, CaseInsensitiveEqual>;

}  // namespace uvchat::chat
