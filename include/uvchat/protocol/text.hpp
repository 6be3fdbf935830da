// Text rules of the protocol: UTF-8, names, rooms, case folding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace uvchat::protocol {

inline constexpr std::size_t kMaxNameLength = 32;

// True when `text` is well-formed UTF-8: no overlong forms, no surrogates,
// nothing past U+10FFFF.
bool is_valid_utf8(std::string_view text);

// Appends `text` (valid UTF-8) to `out`, each control character (C0 but TAB,
// DEL, C1) replaced by U+FFFD. Returns true when anything was replaced.
bool append_without_controls(std::string_view text, std::string& out);

// True when `text` holds a control character that append_without_controls
// would replace.
bool has_controls(std::string_view text);

// True when every byte is printable ASCII (0x20 to 0x7E): then `text` is
// valid UTF-8, has no controls and no telnet commands. Most chat lines are.
bool is_printable_ascii(std::string_view text);

// 1-32 of [A-Za-z0-9_.-], the first a letter or digit. Says nothing about
// reserved names: see is_reserved_name.
bool is_valid_name(std::string_view name);

// `server` and `all`, in any case.
bool is_reserved_name(std::string_view name);

// `#` followed by a valid name.
bool is_valid_room(std::string_view room);

// ASCII lower case: names and rooms are ASCII, so this is their case fold.
// Inline: hashing and comparing names calls it for every byte.
constexpr char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string fold_case(std::string_view text);

// Equal when folded, without a folded copy.
constexpr bool equal_case_insensitive(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// Negative, zero or positive as a is before, equal to or after b when
// both are folded.
constexpr int compare_case_insensitive(std::string_view a, std::string_view b) {
  const std::size_t common = a.size() < b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < common; ++i) {
    const char x = to_lower(a[i]);
    const char y = to_lower(b[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

// Case-insensitive ASCII ordering, for the sorted lists the server sends;
// names equal when folded are ordered by their bytes, so the order is total.
bool less_case_insensitive(std::string_view a, std::string_view b);

// True when `text` is empty or only spaces and tabs.
bool is_blank(std::string_view text);
// `text` without the spaces and tabs around it.
std::string_view trim(std::string_view text);

// The longest start of `text` (valid UTF-8) of at most `max_bytes` bytes
// that does not cut a character in two: what a line may quote of a long
// text.
std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes);

}  // namespace uvchat::protocol
