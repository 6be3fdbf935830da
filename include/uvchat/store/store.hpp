// The message store: SQLite, used from one thread (the store worker's).
// Synchronous and free of libuv, so it is tested directly against an
// in-memory database. The schema is described in docs/STORAGE.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace uvchat::store {

class Conversations;
class DirectChunkWriter;

// Every failure of the store: a message fit for a log line or for the
// start-up error ("cannot open uvchat.db: file is not a database").
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class MessageKind { kDirect, kRoom, kBroadcast };

// A message as the store is asked to write it: its strings stay the caller's,
// and must outlive the call. Times are Unix milliseconds.
struct MessageRef {
  std::int64_t id = 0;
  std::int64_t received_at = 0;
  std::string_view sender;
  MessageKind kind = MessageKind::kDirect;
  std::string_view target;
  std::string_view text;
  std::optional<std::int64_t> delivered_at;
};

// A message the store read, or one a caller keeps whole. Times are Unix
// milliseconds.
struct StoredMessage {
  std::int64_t id = 0;  // assigned by the server, increasing
  std::int64_t received_at = 0;
  std::string sender;
  MessageKind kind = MessageKind::kDirect;
  std::string target;  // kDirect: recipient; kRoom: room without '#'; kBroadcast: empty
  std::string text;
  std::optional<std::int64_t> delivered_at;  // kDirect only; empty while queued

  // As std::string is to std::string_view.
  operator MessageRef() const {
    return MessageRef{id, received_at, sender, kind, target, text, delivered_at};
  }
};

// A page of a user's queue: the undelivered DMs with after < id <= up_to,
// oldest first, at most max_count of them and no more than max_bytes of
// text (at least one, however long). `more`: there are others after them.
struct QueuePage {
  std::int64_t after = 0;
  std::int64_t up_to = INT64_MAX;
  std::size_t max_count = SIZE_MAX;
  std::size_t max_bytes = SIZE_MAX;
  std::vector<StoredMessage> messages;
  bool more = false;
};

struct StoredUser {
  std::string name;           // as first registered
  std::string password_hash;  // empty: no password
  std::int64_t first_seen = 0;
  std::int64_t last_seen = 0;
  std::int64_t queued = 0;  // undelivered DMs to this user
};

class Store {
 public:
  // Opens the database at `path` (":memory:" for a throwaway one), creating
  // and initialising it when the file does not exist or is empty, and
  // upgrading an older uvchat schema. Never writes to a file that is not a
  // uvchat database. Throws StoreError.
  static std::unique_ptr<Store> open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Start-up.
  std::vector<StoredUser> load_users();
  std::int64_t max_message_id();

  // Group commit: the worker wraps a batch of calls in one transaction.
  void begin();
  void commit();
  void rollback();
  // A commit is written but need not be on disk when commit() returns
  // (synchronous = NORMAL in WAL mode). sync() puts every commit so far on
  // disk: it syncs the WAL file. The worker calls it before an answer that
  // promises durability, and within a bounded time of any other commit
  // (docs/STORAGE.md, "When a commit reaches the disk"). A no-op in memory.
  // Throws StoreError when the file system reports a failure: the commits
  // since the last good sync may then never reach the disk.
  void sync();
  // Rows changed by every statement so far: a commit that changed nothing
  // needs no sync.
  std::int64_t changes() const;

  void insert_message(const MessageRef& message);
  // DMs that were delivered before they were stored (delivered_at set), in
  // any order: written as one row per conversation (up to 64 DMs) in
  // direct_chunks rather than one row each (docs/STORAGE.md). A message
  // that is not a delivered DM is a StoreError.
  void insert_delivered_directs(std::span<const MessageRef> messages);
  void mark_delivered(std::span<const std::int64_t> ids, std::int64_t when);
  // The same, and tells `marked` of each DM it marked (one already
  // delivered is not), with its recipient's key, the lower-case name.
  using Marked = std::function<void(std::int64_t id, std::string_view recipient_key)>;
  void mark_delivered(std::span<const std::int64_t> ids, std::int64_t when, const Marked& marked);
  // The DMs in `messages` with these ids, in that order; ids of none are skipped.
  std::vector<StoredMessage> directs_by_id(std::span<const std::int64_t> ids);
  // Adds the user if new; otherwise updates last_seen. Names compare
  // case-insensitively; the stored spelling is the first one.
  void touch_user(std::string_view name, std::int64_t when);
  void set_password_hash(std::string_view name, std::string_view hash);

  // Undelivered DMs to `recipient`, oldest first: all of them, or a page
  // (`page` says which; the answer is `page` with its messages and more).
  std::vector<StoredMessage> undelivered_directs(std::string_view recipient);
  QueuePage undelivered_directs(std::string_view recipient, const QueuePage& page);
  // How many DMs to `recipient` with id <= up_to_id are undelivered.
  std::int64_t count_undelivered(std::string_view recipient, std::int64_t up_to_id);
  // The last `limit` messages of a room (or between two users, both
  // directions) with id <= up_to_id, oldest first.
  std::vector<StoredMessage> room_history(std::string_view room, int limit, std::int64_t up_to_id);
  // The last `limit` lines to everyone with id <= up_to_id, oldest first.
  std::vector<StoredMessage> broadcast_history(int limit, std::int64_t up_to_id);
  std::vector<StoredMessage> direct_history(std::string_view a, std::string_view b, int limit,
                                            std::int64_t up_to_id);
  // Retention: deletes room and broadcast messages received before `cutoff`
  // and DMs delivered before it; never an undelivered DM. Returns the count.
  std::int64_t delete_delivered_before(std::int64_t cutoff);

 private:
  explicit Store(sqlite3* db);
  struct Statements;

  void insert_direct_chunk(const std::string& conversation, std::span<const MessageRef* const> chunk);
  std::vector<StoredMessage> chunked_history(const std::string& conversation, int limit, std::int64_t up_to_id);

  sqlite3* db_;
  bool on_disk_;  // not ":memory:"
  std::unique_ptr<Statements> statements_;
  // Kept from commit to commit with their capacity (direct_chunk.hpp).
  std::unique_ptr<Conversations> conversations_;
  std::unique_ptr<DirectChunkWriter> chunk_writer_;
};

}  // namespace uvchat::store
