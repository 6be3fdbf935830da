// The message store on SQLite: its statements and what the server asks of
// it. Opening a database and its schema are in schema.cpp.
#include "uvchat/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "schema.hpp"
#include "sqlite.hpp"
#include "uvchat/protocol/text.hpp"
#include "uvchat/store/direct_chunk.hpp"

namespace uvchat::store {
namespace {

using sqlite::Run;
using sqlite::Statement;

// The most DMs one row of direct_chunks holds: a history read decodes whole
// rows, so this bounds the work past the messages it wants. 64 DMs of 64
// bytes are about 5 KB of JSON.
constexpr std::size_t kChunkMessages = 64;

// History is gathered newest first, by id.
bool newer(const StoredMessage& x, const StoredMessage& y) { return x.id > y.id; }

const char* kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kDirect: return "dm";
    case MessageKind::kRoom: return "room";
    case MessageKind::kBroadcast: return "broadcast";
  }
  throw StoreError("unknown message kind");
}

MessageKind kind_from_name(std::string_view name) {
  if (name == "dm") return MessageKind::kDirect;
  if (name == "room") return MessageKind::kRoom;
  if (name == "broadcast") return MessageKind::kBroadcast;
  throw StoreError("unknown message kind '" + std::string(name) + "' in the database");
}

// Reads a row of the message queries, whose columns are, in this order:
// id, received_at, sender, kind, target, text, delivered_at.
StoredMessage read_message(const Run& row) {
  StoredMessage message;
  message.id = row.integer(0);
  message.received_at = row.integer(1);
  message.sender = row.text(2);
  message.kind = kind_from_name(row.text(3));
  message.target = row.text(4);
  message.text = row.text(5);
  if (!row.is_null(6)) message.delivered_at = row.integer(6);
  return message;
}

std::vector<StoredMessage> read_messages(Run& run) {
  std::vector<StoredMessage> messages;
  while (run.next_row()) messages.push_back(read_message(run));
  return messages;
}

}  // namespace

// --- Statements ------------------------------------------------------------

// Every statement the store runs, prepared once when the store opens.
struct Store::Statements {
  explicit Statements(sqlite3* db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        load_users(db,
                   "SELECT name, password_hash, first_seen, last_seen,"
                   " (SELECT count(*) FROM messages"
                   "  WHERE kind = 'dm' AND delivered_at IS NULL AND target_key = users.name_key)"
                   " FROM users ORDER BY name_key"),
        max_message_id(db,
                       "SELECT max(coalesce((SELECT max(id) FROM messages), 0),"
                       " coalesce((SELECT max(last_id) FROM direct_chunks), 0))"),
        insert_message(db,
                       "INSERT INTO messages"
                       " (id, received_at, sender, kind, target, target_key, sender_key, text, delivered_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
        insert_direct_chunk(db,
                            "INSERT INTO direct_chunks"
                            " (last_id, first_id, conversation, messages, first_received, delivered_until, names, dms)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        mark_delivered(db,
                       "UPDATE messages SET delivered_at = ?2"
                       " WHERE id = ?1 AND kind = 'dm' AND delivered_at IS NULL"),
        mark_delivered_returning(db,
                                 "UPDATE messages SET delivered_at = ?2"
                                 " WHERE id = ?1 AND kind = 'dm' AND delivered_at IS NULL RETURNING target_key"),
        direct_by_id(db,
                     "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                     " WHERE id = ?1 AND kind = 'dm'"),
        touch_user(db,
                   "INSERT INTO users (name, name_key, password_hash, first_seen, last_seen)"
                   " VALUES (?1, ?2, NULL, ?3, ?3)"
                   " ON CONFLICT (name_key) DO UPDATE SET last_seen = excluded.last_seen"),
        set_password_hash(db, "UPDATE users SET password_hash = ?2 WHERE name_key = ?1"),
        // A range of messages_queued: the replay reads a queue page by page.
        undelivered_directs(db,
                            "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                            " WHERE kind = 'dm' AND delivered_at IS NULL AND target_key = ?1"
                            " AND id > ?2 AND id <= ?3 ORDER BY id"),
        count_undelivered(db,
                          "SELECT count(*) FROM messages"
                          " WHERE kind = 'dm' AND delivered_at IS NULL AND target_key = ?1 AND id <= ?2"),
        // Newest first so that LIMIT keeps the last ones; the caller reverses.
        room_history(db,
                     "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                     " WHERE kind = 'room' AND target_key = ?1 AND id <= ?2 ORDER BY id DESC LIMIT ?3"),
        // The primary key read backwards through the partial index.
        broadcast_history(db,
                          "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                          " INDEXED BY messages_broadcast"
                          " WHERE kind = 'broadcast' AND id <= ?1 ORDER BY id DESC LIMIT ?2"),
        // One arm per direction, each a range of messages_direct; SQLite
        // merges the two ordered arms and stops after LIMIT rows. The second
        // arm is off for DMs to oneself, which the first arm already has.
        direct_history(db,
                       "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                       " WHERE kind = 'dm' AND sender_key = ?1 AND target_key = ?2 AND id <= ?3"
                       " UNION ALL "
                       "SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages"
                       " WHERE kind = 'dm' AND sender_key = ?2 AND target_key = ?1 AND id <= ?3 AND ?1 <> ?2"
                       " ORDER BY id DESC LIMIT ?4"),
        // A conversation's rows of direct_chunks, by their newest DM.
        direct_chunks_of(db,
                         "SELECT last_id, first_id, first_received, names, dms FROM direct_chunks"
                         " WHERE conversation = ?1 AND first_id <= ?2 ORDER BY last_id DESC"),
        // One row's DMs (?1, with its first_id, first_received and names),
        // newest first, in the columns of the queries above.
        chunk_messages(db,
                       "SELECT ?2 + json_extract(value, '$[0]'), ?3 + json_extract(value, '$[1]'),"
                       " json_extract(?4, '$[' || json_extract(value, '$[2]') || ']'), 'dm',"
                       " json_extract(?4, '$[' || json_extract(value, '$[3]') || ']'), json_extract(value, '$[4]'),"
                       " ?3 + json_extract(value, '$[1]') + json_extract(value, '$[5]')"
                       " FROM json_each(?1) ORDER BY key DESC"),
        // A DM is delivered after it was received, so "delivered before the
        // cutoff" implies "received before it": the received_at condition is
        // shared, and lets the whole delete use messages_received.
        delete_delivered_before(db,
                                "DELETE FROM messages WHERE received_at < ?1"
                                " AND (kind <> 'dm' OR delivered_at < ?1)"),
        // Rows are deleted from the oldest (the lowest last_id) up to the
        // first one with a DM delivered since the cutoff: the scan stops
        // there, so no index on delivered_until is needed. A row delivered
        // before the cutoff but after a newer one (the clock went back)
        // waits for that one.
        delete_chunks_delivered_before(db,
                                       "DELETE FROM direct_chunks WHERE last_id < coalesce("
                                       "(SELECT last_id FROM direct_chunks WHERE delivered_until >= ?1"
                                       " ORDER BY last_id LIMIT 1), 9223372036854775807)"
                                       " RETURNING messages") {}

  Statement begin;
  Statement commit;
  Statement rollback;
  Statement load_users;
  Statement max_message_id;
  Statement insert_message;
  Statement insert_direct_chunk;
  Statement mark_delivered;
  Statement mark_delivered_returning;
  Statement direct_by_id;
  Statement touch_user;
  Statement set_password_hash;
  Statement undelivered_directs;
  Statement count_undelivered;
  Statement room_history;
  Statement broadcast_history;
  Statement direct_history;
  Statement direct_chunks_of;
  Statement chunk_messages;
  Statement delete_delivered_before;
  Statement delete_chunks_delivered_before;
};

// --- Store -----------------------------------------------------------------

std::unique_ptr<Store> Store::open(const std::string& path) {
  try {
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(open_database(path), &sqlite3_close);
    auto store = std::unique_ptr<Store>(new Store(db.get()));
    static_cast<void>(db.release());  // the store owns it now
    return store;
  } catch (const StoreError& error) {
    throw StoreError("cannot open " + path + ": " + error.what());
  }
}

Store::Store(sqlite3* db)
    : db_(db),
      on_disk_(sqlite3_db_filename(db, "main") != nullptr && *sqlite3_db_filename(db, "main") != '\0'),
      statements_(std::make_unique<Statements>(db)),
      conversations_(std::make_unique<Conversations>()),
      chunk_writer_(std::make_unique<DirectChunkWriter>()) {}

Store::~Store() {
  statements_.reset();  // sqlite3_close refuses a connection with live statements
  sqlite3_close(db_);
}

std::vector<StoredUser> Store::load_users() {
  Run run(db_, statements_->load_users, "load users");
  std::vector<StoredUser> users;
  while (run.next_row()) {
    StoredUser user;
    user.name = run.text(0);
    user.password_hash = run.text(1);  // NULL reads as empty: no password
    user.first_seen = run.integer(2);
    user.last_seen = run.integer(3);
    user.queued = run.integer(4);
    users.push_back(std::move(user));
  }
  return users;
}

std::int64_t Store::max_message_id() {
  Run run(db_, statements_->max_message_id, "read the last message id");
  if (!run.next_row()) throw StoreError("read the last message id: no result");
  return run.integer(0);
}

void Store::begin() { Run(db_, statements_->begin, "begin a transaction").finish(); }

void Store::commit() { Run(db_, statements_->commit, "commit").finish(); }

void Store::sync() {
  if (!on_disk_) return;
  // The WAL, as SQLite holds it open (SQLITE_FCNTL_JOURNAL_POINTER gives the
  // WAL in WAL mode). Syncing it is what a COMMIT under synchronous = FULL
  // would have done, once for every commit since the last sync: the frames
  // are appended in order, and recovery replays them up to the last commit.
  // The file is opened at the first write; before it there is nothing to sync.
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || wal == nullptr ||
      wal->pMethods == nullptr) {
    return;
  }
  errno = 0;
  const int status = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
  const int error = errno;
  if (status != SQLITE_OK) {
    throw StoreError(std::string("sync the database to disk: ") + sqlite3_errstr(status) +
                     (error != 0 ? std::string(" (") + std::strerror(error) + ")" : std::string()));
  }
}

std::int64_t Store::changes() const { return sqlite3_total_changes64(db_); }

void Store::rollback() {
  // Nothing to undo, and SQLite may already have rolled back by itself after
  // an I/O error or a full disk: both are fine for a caller cleaning up.
  if (sqlite3_get_autocommit(db_) != 0) return;
  Run(db_, statements_->rollback, "roll back").finish();
}

void Store::insert_message(const MessageRef& message) {
  Run run(db_, statements_->insert_message, "insert a message");
  run.bind(1, message.id)
      .bind(2, message.received_at)
      .bind(3, message.sender)
      .bind(4, std::string_view(kind_name(message.kind)))
      .bind(5, message.target)
      .bind(6, protocol::fold_case(message.target))
      .bind(7, protocol::fold_case(message.sender))
      .bind(8, message.text);
  if (message.delivered_at) {
    run.bind(9, *message.delivered_at);
  } else {
    run.bind_null(9);
  }
  run.finish();
}

// A row per conversation, or more past kChunkMessages; its key string is
// made once per conversation, not once per DM.
void Store::insert_delivered_directs(std::span<const MessageRef> messages) {
  Conversations& conversations = *conversations_;
  conversations.clear();
  for (const MessageRef& message : messages) {
    if (message.kind != MessageKind::kDirect || !message.delivered_at) {
      throw StoreError("insert delivered DMs: message " + std::to_string(message.id) + " is not a delivered DM");
    }
    // SQLite's JSON functions end a string at \u0000. The server replaces
    // control characters, so text never holds a NUL; should one come, its
    // DM goes to `messages`, which keeps any bytes.
    if (message.text.find('\0') != std::string_view::npos) {
      insert_message(message);
      continue;
    }
    conversations.add(message);
  }
  std::string key;
  conversations.for_each([&](std::span<const MessageRef* const> dms) {
    conversation_key_into(key, dms.front()->sender, dms.front()->target);
    for (std::size_t first = 0; first < dms.size(); first += kChunkMessages) {
      insert_direct_chunk(key, dms.subspan(first, std::min(kChunkMessages, dms.size() - first)));
    }
  });
  conversations.clear();
}

void Store::insert_direct_chunk(const std::string& conversation, std::span<const MessageRef* const> chunk) {
  DirectChunkWriter& writer = *chunk_writer_;
  writer.write(chunk);
  Run(db_, statements_->insert_direct_chunk, "insert delivered DMs")
      .bind(1, chunk.back()->id)
      .bind(2, chunk.front()->id)
      .bind(3, conversation)
      .bind(4, static_cast<std::int64_t>(chunk.size()))
      .bind(5, chunk.front()->received_at)
      .bind(6, writer.delivered_until())
      .bind(7, writer.names())
      .bind(8, writer.dms())
      .finish();
}

void Store::mark_delivered(std::span<const std::int64_t> ids, std::int64_t when) {
  for (const std::int64_t id : ids) {
    Run(db_, statements_->mark_delivered, "mark a message delivered").bind(1, id).bind(2, when).finish();
  }
}

void Store::mark_delivered(std::span<const std::int64_t> ids, std::int64_t when, const Marked& marked) {
  for (const std::int64_t id : ids) {
    Run run(db_, statements_->mark_delivered_returning, "mark a message delivered");
    run.bind(1, id).bind(2, when);
    if (run.next_row()) {
      marked(id, run.text_view(0));
      run.finish();
    }
  }
}

std::vector<StoredMessage> Store::directs_by_id(std::span<const std::int64_t> ids) {
  std::vector<StoredMessage> messages;
  for (const std::int64_t id : ids) {
    Run run(db_, statements_->direct_by_id, "read a direct message");
    run.bind(1, id);
    if (run.next_row()) messages.push_back(read_message(run));
  }
  return messages;
}

void Store::touch_user(std::string_view name, std::int64_t when) {
  Run(db_, statements_->touch_user, "record a user")
      .bind(1, name)
      .bind(2, protocol::fold_case(name))
      .bind(3, when)
      .finish();
}

void Store::set_password_hash(std::string_view name, std::string_view hash) {
  Run run(db_, statements_->set_password_hash, "set a password hash");
  run.bind(1, protocol::fold_case(name));
  if (hash.empty()) {
    run.bind_null(2);  // empty: the name has no password
  } else {
    run.bind(2, hash);
  }
  run.finish();
  // A password that silently went nowhere would leave the name open while
  // its owner thinks it is protected.
  if (sqlite3_changes(db_) == 0) throw StoreError("set a password hash: no user " + std::string(name));
}

std::vector<StoredMessage> Store::undelivered_directs(std::string_view recipient) {
  return undelivered_directs(recipient, QueuePage{}).messages;
}

// Stops at a limit only when another row is there, so that `more` is exact:
// the replay ends with the page that holds the last DM, not after an empty one.
QueuePage Store::undelivered_directs(std::string_view recipient, const QueuePage& page) {
  Run run(db_, statements_->undelivered_directs, "read queued messages");
  run.bind(1, protocol::fold_case(recipient)).bind(2, page.after).bind(3, page.up_to);
  QueuePage read = page;
  std::size_t bytes = 0;
  while (run.next_row()) {
    if (read.messages.size() >= page.max_count || (!read.messages.empty() && bytes >= page.max_bytes)) {
      read.more = true;
      break;
    }
    read.messages.push_back(read_message(run));
    bytes += read.messages.back().text.size();
  }
  return read;
}

std::int64_t Store::count_undelivered(std::string_view recipient, std::int64_t up_to_id) {
  Run run(db_, statements_->count_undelivered, "count queued messages");
  run.bind(1, protocol::fold_case(recipient)).bind(2, up_to_id);
  return run.next_row() ? run.integer(0) : 0;
}

std::vector<StoredMessage> Store::room_history(std::string_view room, int limit, std::int64_t up_to_id) {
  if (limit <= 0) return {};  // SQLite reads a negative LIMIT as "no limit"
  Run run(db_, statements_->room_history, "read room history");
  run.bind(1, protocol::fold_case(room)).bind(2, up_to_id).bind(3, std::int64_t{limit});
  std::vector<StoredMessage> messages = read_messages(run);
  std::reverse(messages.begin(), messages.end());
  return messages;
}

std::vector<StoredMessage> Store::broadcast_history(int limit, std::int64_t up_to_id) {
  if (limit <= 0) return {};
  Run run(db_, statements_->broadcast_history, "read the history of lines to everyone");
  run.bind(1, up_to_id).bind(2, std::int64_t{limit});
  std::vector<StoredMessage> messages = read_messages(run);
  std::reverse(messages.begin(), messages.end());
  return messages;
}

std::vector<StoredMessage> Store::direct_history(std::string_view a, std::string_view b, int limit,
                                                 std::int64_t up_to_id) {
  if (limit <= 0) return {};  // SQLite reads a negative LIMIT as "no limit"
  Run run(db_, statements_->direct_history, "read direct message history");
  run.bind(1, protocol::fold_case(a)).bind(2, protocol::fold_case(b)).bind(3, up_to_id).bind(4, std::int64_t{limit});
  std::vector<StoredMessage> rows = read_messages(run);
  std::vector<StoredMessage> chunked = chunked_history(conversation_key(a, b), limit, up_to_id);
  // Both newest first: merged, the first `limit` are the last ones.
  std::vector<StoredMessage> messages;
  messages.reserve(rows.size() + chunked.size());
  std::merge(std::make_move_iterator(rows.begin()), std::make_move_iterator(rows.end()),
             std::make_move_iterator(chunked.begin()), std::make_move_iterator(chunked.end()),
             std::back_inserter(messages), newer);
  if (messages.size() > static_cast<std::size_t>(limit)) messages.resize(static_cast<std::size_t>(limit));
  std::reverse(messages.begin(), messages.end());
  return messages;
}

// The last `limit` DMs of a conversation in direct_chunks with id <= up_to_id,
// newest first. The id ranges of its rows may overlap (a DM delivered late
// lands in a later row than newer ones), so rows are read by their last id,
// newest first, until the next row's last id is older than the `limit`
// newest found so far: nothing in it or after it can be among them.
std::vector<StoredMessage> Store::chunked_history(const std::string& conversation, int limit,
                                                  std::int64_t up_to_id) {
  const auto wanted = static_cast<std::size_t>(limit);
  std::vector<StoredMessage> messages;
  Run chunks(db_, statements_->direct_chunks_of, "read direct message history");
  chunks.bind(1, conversation).bind(2, up_to_id);
  while (chunks.next_row()) {
    if (messages.size() == wanted && chunks.integer(0) < messages.back().id) break;
    Run dms(db_, statements_->chunk_messages, "read direct message history");
    dms.bind(1, chunks.text(4)).bind(2, chunks.integer(1)).bind(3, chunks.integer(2)).bind(4, chunks.text(3));
    while (dms.next_row()) {
      StoredMessage message = read_message(dms);
      if (message.id <= up_to_id) messages.push_back(std::move(message));
    }
    // Only the newest `limit` can matter; messages.back() is the oldest kept.
    std::sort(messages.begin(), messages.end(), newer);
    if (messages.size() > wanted) messages.resize(wanted);
  }
  return messages;
}

std::int64_t Store::delete_delivered_before(std::int64_t cutoff) {
  Run(db_, statements_->delete_delivered_before, "delete old messages").bind(1, cutoff).finish();
  std::int64_t deleted = sqlite3_changes(db_);
  Run chunks(db_, statements_->delete_chunks_delivered_before, "delete old messages");
  chunks.bind(1, cutoff);
  while (chunks.next_row()) deleted += chunks.integer(0);
  return deleted;
}

}  // namespace uvchat::store
