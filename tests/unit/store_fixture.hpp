// Shared by the message store's tests (test_store*.cpp): a temporary folder,
// a plain SQLite connection to look behind the store's back, and messages of
// each kind to write.
#pragma once

#include <sqlite3.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "uvchat/store/store.hpp"

namespace uvchat::test {

// A folder under the system's temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "uvchat-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path_))
      names.insert(entry.path().filename().string());
    return names;
  }

 private:
  std::filesystem::path path_;
};

// A plain SQLite connection, to look at or build a file behind the store's back.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) throw std::runtime_error(sqlite3_errmsg(db_));
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void execute(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error;
      sqlite3_free(error);
      throw std::runtime_error(message);
    }
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db_));
    }
    std::string value;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
    }
    sqlite3_finalize(statement);
    return value;
  }
  std::int64_t integer(const std::string& sql) { return std::stoll(text(sql)); }
  // As if the process died: closing leaves the -wal file as it is.
  void leave_wal_on_close() { sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr); }

 private:
  sqlite3* db_ = nullptr;
};

inline store::StoredMessage direct(std::int64_t id, std::string sender, std::string recipient,
                                   std::string text, std::int64_t received_at = 1000) {
  store::StoredMessage message;
  message.id = id;
  message.received_at = received_at;
  message.sender = std::move(sender);
  message.kind = store::MessageKind::kDirect;
  message.target = std::move(recipient);
  message.text = std::move(text);
  return message;
}

inline store::StoredMessage delivered(std::int64_t id, std::string sender, std::string recipient,
                                      std::string text, std::int64_t delivered_at = 2000) {
  store::StoredMessage message = direct(id, std::move(sender), std::move(recipient), std::move(text));
  message.delivered_at = delivered_at;
  return message;
}

inline store::StoredMessage room(std::int64_t id, std::string sender, std::string room_name, std::string text,
                                 std::int64_t received_at = 1000) {
  store::StoredMessage message =
      direct(id, std::move(sender), std::move(room_name), std::move(text), received_at);
  message.kind = store::MessageKind::kRoom;
  return message;
}

inline std::vector<std::int64_t> ids_of(const std::vector<store::StoredMessage>& messages) {
  std::vector<std::int64_t> ids;
  ids.reserve(messages.size());
  for (const store::StoredMessage& message : messages) ids.push_back(message.id);
  return ids;
}

// Several delivered DMs, as the store worker hands them over: any order.
inline std::vector<store::StoredMessage> delivered_batch(
    std::initializer_list<store::StoredMessage> messages) {
  return messages;
}

inline std::vector<store::MessageRef> refs_to(const std::vector<store::StoredMessage>& messages) {
  return {messages.begin(), messages.end()};
}

inline void insert_delivered(store::Store& db, const std::vector<store::StoredMessage>& messages) {
  db.insert_delivered_directs(refs_to(messages));
}

}  // namespace uvchat::test
