// Maps keyed by a name or room, compared case-insensitively (ASCII), so that
// a lookup needs neither a folded copy nor an allocation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

namespace uvchat::chat {

// Not noexcept, on purpose: libstdc++ then keeps each node's hash in the
// node. A lookup compares hashes before names, and finding a bucket's end
// needs no hashing; with a noexcept hash it rehashed every name it passed
// (a tenth of a DM's cost on the loop, callgrind).
struct CaseInsensitiveHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const;
};

struct CaseInsensitiveEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};

template <class Value>
using NameMap = std::unordered_map<std::string, Value, CaseInsensitiveHash, CaseInsensitiveEqual>;

}  // namespace uvchat::chat
