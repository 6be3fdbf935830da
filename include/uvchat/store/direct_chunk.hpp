// How the store writes delivered DMs in bulk: one row of direct_chunks per
// conversation and group commit, its DMs a JSON array that SQLite's own JSON
// functions read back (docs/STORAGE.md). Pure: no SQLite here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "uvchat/store/store.hpp"

namespace uvchat::store {

// The conversation between two users as direct_chunks keys it: both keys
// (protocol::fold_case),
// the smaller first, joined by a space ("alice bob"). Names cannot hold a
// space, so two conversations never share a key.
std::string conversation_key(std::string_view a, std::string_view b);
// The same into `key`, which keeps its capacity.
void conversation_key_into(std::string& key, std::string_view a, std::string_view b);

// `message` as [id, received_at, sender, target, text, delivered_at]: the
// columns of `messages` in their order, without kind (always 'dm').
void append_direct_json(std::string& out, const StoredMessage& message);
// The same written at `out`, which has room for max_direct_json_length
// bytes; returns the end of what was written.
char* write_direct_json(char* out, const StoredMessage& message);
std::size_t max_direct_json_length(const StoredMessage& message);

}  // namespace uvchat::store
