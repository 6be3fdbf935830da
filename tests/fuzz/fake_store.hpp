// The message store in memory, for the hub fuzz target: the semantics of
// src/store and src/net/store_worker.cpp, one request per transaction. While
// the disk is "full" every transaction fails as the worker reports it: no
// change, inserts not acknowledged, reads not ok and empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/chat/name_map.hpp"

namespace uvchat::fuzz {

class FakeStore {
 public:
  struct Message {
    chat::MessageRecord record;
    bool delivered = false;  // DMs only
    std::uint64_t delivered_in = 0;  // the MarkDelivered (marks_) that did it
  };

  // Runs `request`; the answer, for a request that has one.
  std::optional<chat::StoreResult> execute(const chat::StoreRequest& request);

  void set_disk_full(bool full) { disk_full_ = full; }
  bool disk_full() const { return disk_full_; }

  const Message* find(chat::MessageId id) const;
  chat::MessageId last_id() const { return last_id_; }

 private:
  std::optional<chat::StoreResult> failed(const chat::StoreRequest& request) const;
  std::optional<chat::StoreResult> run(const chat::InsertMessage& insert);
  std::optional<chat::StoreResult> run(const chat::MarkDelivered& delivered);
  std::optional<chat::StoreResult> run(const chat::TouchUser& touch);
  std::optional<chat::StoreResult> run(const chat::SetPasswordHash& password);
  std::optional<chat::StoreResult> run(const chat::FetchQueued& fetch);
  std::optional<chat::StoreResult> run(const chat::FetchHistory& fetch);
  std::optional<chat::StoreResult> run(const chat::DeleteDeliveredBefore& retention);

  bool in_history(const Message& message, const chat::FetchHistory& fetch) const;
  // The last `limit` messages with id <= up_to that `fetch` asks for.
  std::vector<chat::MessageRecord> select_history(const chat::FetchHistory& fetch) const;

  std::map<chat::MessageId, Message> messages_;  // by id: oldest first
  chat::NameMap<std::string> users_;             // every known name, and its password hash
  chat::MessageId last_id_ = 0;                  // the largest id ever inserted
  bool disk_full_ = false;
  // Replays under way, as StoreWorker::Replay: a DM they promised that is
  // marked delivered after they began is still read.
  struct Replay {
    std::uint64_t began_after_mark = 0;
    chat::MessageId up_to = 0;
  };
  chat::NameMap<Replay> replays_;
  std::uint64_t marks_ = 0;
};

}  // namespace uvchat::fuzz
