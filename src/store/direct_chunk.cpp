#include "uvchat/store/direct_chunk.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <utility>

#include "uvchat/chat/name_map.hpp"
#include "uvchat/protocol/text.hpp"

namespace uvchat::store {
namespace {

constexpr std::size_t kMaxIntegerLength = 20;  // an int64's digits and sign

// The JSON is written through a pointer into room reserved beforehand:
// appending to a string piece by piece cost more than the escaping.
char* write_integer(char* out, std::int64_t value) {
  if (value >= 0 && value < 10) {  // most of a chunk's numbers: positions and offsets
    *out = static_cast<char>('0' + value);
    return out + 1;
  }
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

// Sixteen bytes at a time where the compiler has vectors (GCC and Clang:
// SSE2 on x86-64, NEON on the Pi's aarch64); the JSON's escaping check was
// the largest part of a DM's cost on the store thread.
#if defined(__GNUC__)
using Sixteen = unsigned char __attribute__((vector_size(16)));

bool plain_sixteen(const char* bytes) {
  Sixteen chunk;
  std::memcpy(&chunk, bytes, sizeof chunk);
  const auto special = (chunk < 0x20) | (chunk == '"') | (chunk == '\\');
  std::uint64_t halves[2];
  std::memcpy(halves, &special, sizeof halves);
  return (halves[0] | halves[1]) == 0;
}
#else
bool plain_sixteen(const char*) { return false; }
#endif

std::size_t plain_prefix(std::string_view text) {
  std::size_t i = 0;
  while (i + 16 <= text.size() && plain_sixteen(text.data() + i)) i += 16;
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

// [id, received, sender, target, text, delivered] and the comma after it.
std::size_t max_dm_length(const MessageRef& dm) {
  return 5 * kMaxIntegerLength + max_string_length(dm.text) + 8;
}

bool same_name(std::string_view a, std::string_view b) { return chat::CaseInsensitiveEqual{}(a, b); }

bool same_conversation(const MessageRef& a, const MessageRef& b) {
  return (same_name(a.sender, b.sender) && same_name(a.target, b.target)) ||
         (same_name(a.sender, b.target) && same_name(a.target, b.sender));
}

bool older(const MessageRef* a, const MessageRef* b) { return a->id < b->id; }

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

// --- Conversations -----------------------------------------------------------

// A sum: the same whichever way the DM went.
std::uint64_t Conversations::case_insensitive_hash(std::string_view a, std::string_view b) {
  const chat::CaseInsensitiveHash hash;
  return hash(a) + hash(b);
}

void Conversations::add(const MessageRef& dm) {
  if (last_ < used_ && same_conversation(*conversations_[last_].front(), dm)) {
    add_to(last_, dm);
    return;
  }
  for (std::uint64_t hash = hash_(dm.sender, dm.target);; ++hash) {
    const auto [found, is_new] = by_hash_.try_emplace(hash, used_);
    if (is_new) {
      if (used_ == conversations_.size()) conversations_.emplace_back();
      ++used_;
    } else if (!same_conversation(*conversations_[found->second].front(), dm)) {
      continue;
    }
    add_to(found->second, dm);
    return;
  }
}

void Conversations::add_to(std::size_t conversation, const MessageRef& dm) {
  conversations_[conversation].push_back(&dm);
  last_ = conversation;
}

// DMs are delivered mostly in the order they were sent: usually sorted.
std::span<const MessageRef* const> Conversations::sorted(Dms& dms) {
  if (!std::is_sorted(dms.begin(), dms.end(), older)) std::sort(dms.begin(), dms.end(), older);
  return dms;
}

void Conversations::clear() {
  for (std::size_t i = 0; i < used_; ++i) conversations_[i].clear();
  used_ = 0;
  last_ = 0;
  by_hash_.clear();
}

// --- DirectChunkWriter -----------------------------------------------------

// [[id - first_id, received_at - first_received, sender, target, text,
// delivered_at - received_at], ...] with the names as positions in names().
void DirectChunkWriter::write(std::span<const MessageRef* const> chunk) {
  std::size_t most = 2;  // [ and ]
  for (const MessageRef* dm : chunk) most += max_dm_length(*dm);
  char* const start = dms_room(most);
  char* out = start;
  const std::int64_t first_id = chunk.front()->id;
  const std::int64_t first_received = chunk.front()->received_at;
  names_.clear();
  delivered_until_ = *chunk.front()->delivered_at;
  *out++ = '[';
  for (const MessageRef* dm : chunk) {
    if (out != start + 1) *out++ = ',';
    const std::int64_t delivered_at = *dm->delivered_at;
    *out++ = '[';
    out = write_integer(out, dm->id - first_id);
    *out++ = ',';
    out = write_integer(out, dm->received_at - first_received);
    *out++ = ',';
    out = write_integer(out, static_cast<std::int64_t>(name_index(dm->sender)));
    *out++ = ',';
    out = write_integer(out, static_cast<std::int64_t>(name_index(dm->target)));
    *out++ = ',';
    out = write_string(out, dm->text);
    *out++ = ',';
    out = write_integer(out, delivered_at - dm->received_at);
    *out++ = ']';
    delivered_until_ = std::max(delivered_until_, delivered_at);
  }
  *out++ = ']';
  dms_size_ = static_cast<std::size_t>(out - start);
  write_names();
}

// Exact, not case-insensitive: each spelling is kept as it was written.
std::size_t DirectChunkWriter::name_index(std::string_view name) {
  const auto found = std::find(names_.begin(), names_.end(), name);
  if (found != names_.end()) return static_cast<std::size_t>(found - names_.begin());
  names_.push_back(name);
  return names_.size() - 1;
}

void DirectChunkWriter::write_names() {
  std::size_t most = 2;
  for (const std::string_view name : names_) most += max_string_length(name) + 1;
  names_json_.resize(most);
  char* const start = names_json_.data();
  char* out = start;
  *out++ = '[';
  for (const std::string_view name : names_) {
    if (out != start + 1) *out++ = ',';
    out = write_string(out, name);
  }
  *out++ = ']';
  names_json_.resize(static_cast<std::size_t>(out - start));
}

char* DirectChunkWriter::dms_room(std::size_t size) {
  if (size > dms_capacity_) {
    dms_capacity_ = std::max(size, 2 * dms_capacity_);
    dms_json_ = std::make_unique_for_overwrite<char[]>(dms_capacity_);
  }
  return dms_json_.get();
}

}  // namespace uvchat::store
