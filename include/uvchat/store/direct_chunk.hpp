// How the store writes delivered DMs in bulk: one row of direct_chunks per
// conversation and group commit, its DMs a compact JSON array that SQLite's
// own JSON functions read back (docs/STORAGE.md, schema version 4).
// Pure: no SQLite here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uvchat/store/store.hpp"

namespace uvchat::store {

// The conversation between two users as direct_chunks keys it: both keys
// (protocol::fold_case), the smaller first, joined by a space ("alice bob").
// Names cannot hold a space, so two conversations never share a key.
std::string conversation_key(std::string_view a, std::string_view b);
// The same into `key`, which keeps its capacity.
void conversation_key_into(std::string& key, std::string_view a, std::string_view b);

// The delivered DMs of one commit, sorted into conversations. Kept by the
// store from batch to batch, so that its vectors keep their capacity.
class Conversations {
 public:
  // Any function of the two names that does not depend on their order or
  // case. Tests pass one that collides on purpose.
  using Hash = std::uint64_t (*)(std::string_view a, std::string_view b);
  explicit Conversations(Hash hash = case_insensitive_hash) : hash_(hash) {}

  // `dm` must outlive the next clear().
  void add(const MessageRef& dm);
  // Each conversation's DMs, oldest first, in the order the conversations
  // first appeared.
  template <typename Visit>
  void for_each(Visit visit) {
    for (std::size_t i = 0; i < used_; ++i) visit(sorted(conversations_[i]));
  }
  void clear();

 private:
  using Dms = std::vector<const MessageRef*>;
  static std::uint64_t case_insensitive_hash(std::string_view a, std::string_view b);
  std::span<const MessageRef* const> sorted(Dms& dms);
  void add_to(std::size_t conversation, const MessageRef& dm);

  Hash hash_;
  std::vector<Dms> conversations_;  // the first used_ are this batch's
  std::size_t used_ = 0;
  // By a hash of the two names that does not depend on the direction; a
  // collision moves on to the next value (the names decide).
  std::unordered_map<std::uint64_t, std::size_t> by_hash_;
  std::size_t last_ = 0;  // consecutive DMs are often of one conversation
};

// The JSON of one row of direct_chunks: its `names` and its `dms`.
class DirectChunkWriter {
 public:
  // `chunk`: delivered DMs of one conversation, oldest first, at least one.
  void write(std::span<const MessageRef* const> chunk);
  std::string_view names() const { return names_json_; }
  std::string_view dms() const { return {dms_json_.get(), dms_size_}; }
  std::int64_t delivered_until() const { return delivered_until_; }

 private:
  std::size_t name_index(std::string_view name);
  char* dms_room(std::size_t size);
  void write_names();

  std::vector<std::string_view> names_;  // each spelling once, in order of first use
  std::string names_json_;
  // Written through a pointer, then bound: grown when a chunk needs more,
  // never zero-filled.
  std::unique_ptr<char[]> dms_json_;
  std::size_t dms_capacity_ = 0;
  std::size_t dms_size_ = 0;
  std::int64_t delivered_until_ = 0;
};

}  // namespace uvchat::store
