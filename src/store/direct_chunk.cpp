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

void append_integer(std::string& out, std::int64_t value) {
  const std::size_t start = out.size();
  out.resize(start + 20);  // the most digits an int64 has, with its sign
  const auto end = std::to_chars(out.data() + start, out.data() + out.size(), value).ptr;
  out.resize(static_cast<std::size_t>(end - out.data()));
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
void append_string(std::string& out, std::string_view text) {
  out += '"';
  for (;;) {
    const std::size_t plain = plain_prefix(text);
    out.append(text.substr(0, plain));
    text.remove_prefix(plain);
    if (text.empty()) break;
    const char c = text.front();
    text.remove_prefix(1);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      constexpr std::string_view kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[static_cast<unsigned char>(c) >> 4];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  out += '"';
}

}  // namespace

std::string conversation_key(std::string_view a, std::string_view b) {
  std::string key;
  conversation_key_into(key, a, b);
  return key;
}

void conversation_key_into(std::string& key, std::string_view a, std::string_view b) {
  if (protocol::less_case_insensitive(b, a)) std::swap(a, b);
  key.assign(a);
  key += ' ';
  key += b;
  std::transform(key.begin(), key.end(), key.begin(), protocol::to_lower);
}

void append_direct_json(std::string& out, const StoredMessage& message) {
  out += '[';
  append_integer(out, message.id);
  out += ',';
  append_integer(out, message.received_at);
  out += ',';
  append_string(out, message.sender);
  out += ',';
  append_string(out, message.target);
  out += ',';
  append_string(out, message.text);
  out += ',';
  if (message.delivered_at) {
    append_integer(out, *message.delivered_at);
  } else {
    out += "null";
  }
  out += ']';
}

}  // namespace uvchat::store
