#include "uvchat/store/direct_chunk.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <utility>

#include "uvchat/protocol/text.hpp"

namespace uvchat::store {
namespace {

constexpr std::size_t kMaxIntegerLength = 20;  // an int64's digits and sign

// The JSON is written through a pointer into room reserved beforehand:
// appending to a string piece by piece cost more than the escaping.
char* write_integer(char* out, std::int64_t value) {
  return std::to_chars(out, out + kMaxIntegerLength, value).ptr;
}

bool needs_escape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

// Eight bytes at a time (the classic bit tricks: a byte below n borrows
// into its high bit), since nearly all text needs no escape at all.
constexpr std::uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

bool has_byte_below(std::uint64_t chunk, unsigned char limit) {
  return ((chunk - kEveryByte * limit) & ~chunk & kHighBits) != 0;
}

bool has_byte(std::uint64_t chunk, unsigned char value) { return has_byte_below(chunk ^ (kEveryByte * value), 1); }

std::size_t plain_prefix(std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t chunk;
    std::memcpy(&chunk, text.data() + i, 8);
    if (has_byte_below(chunk, 0x20) || has_byte(chunk, '"') || has_byte(chunk, '\\')) break;
  }
  while (i < text.size() && !needs_escape(text[i])) ++i;
  return i;
}

// A JSON string (RFC 8259). The server already replaced control characters
// in text and names cannot hold them, but the store does not rely on that.
// Bytes from 0x80 up are UTF-8, which JSON carries as they are.
// At most 2 + 6 * text.size() bytes.
char* write_string(char* out, std::string_view text) {
  *out++ = '"';
  for (;;) {
    const std::size_t plain = plain_prefix(text);
    out = std::copy_n(text.data(), plain, out);
    text.remove_prefix(plain);
    if (text.empty()) break;
    const char c = text.front();
    text.remove_prefix(1);
    *out++ = '\\';
    if (c == '"' || c == '\\') {
      *out++ = c;
    } else {
      constexpr std::string_view kHex = "0123456789abcdef";
      out = std::copy_n("u00", 3, out);
      *out++ = kHex[static_cast<unsigned char>(c) >> 4];
      *out++ = kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  *out++ = '"';
  return out;
}

std::size_t max_string_length(std::string_view text) { return 2 + 6 * text.size(); }

}  // namespace

std::string conversation_key(std::string_view a, std::string_view b) {
  std::string key;
  conversation_key_into(key, a, b);
  return key;
}

void conversation_key_into(std::string& key, std::string_view a, std::string_view b) {
  // Both folded, the lesser first: the same key whichever way the DM went.
  if (protocol::compare_case_insensitive(b, a) < 0) std::swap(a, b);
  key.resize(a.size() + 1 + b.size());
  auto out = std::transform(a.begin(), a.end(), key.begin(), protocol::to_lower);
  *out++ = ' ';
  std::transform(b.begin(), b.end(), out, protocol::to_lower);
}

std::size_t max_direct_json_length(const StoredMessage& message) {
  return 3 * kMaxIntegerLength + max_string_length(message.sender) + max_string_length(message.target) +
         max_string_length(message.text) + 7;  // [ , , , , , ]
}

char* write_direct_json(char* out, const StoredMessage& message) {
  *out++ = '[';
  out = write_integer(out, message.id);
  *out++ = ',';
  out = write_integer(out, message.received_at);
  *out++ = ',';
  out = write_string(out, message.sender);
  *out++ = ',';
  out = write_string(out, message.target);
  *out++ = ',';
  out = write_string(out, message.text);
  *out++ = ',';
  out = message.delivered_at ? write_integer(out, *message.delivered_at) : std::copy_n("null", 4, out);
  *out++ = ']';
  return out;
}

void append_direct_json(std::string& out, const StoredMessage& message) {
  const std::size_t start = out.size();
  out.resize(start + max_direct_json_length(message));
  char* const end = write_direct_json(out.data() + start, message);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace uvchat::store
