// The message store on SQLite. The schema, the pragmas and the versioning rule
// are described in docs/STORAGE.md; keep the two in step.
#include "uvchat/store/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "uvchat/protocol/text.hpp"
#include "uvchat/store/direct_chunk.hpp"

namespace uvchat::store {
namespace {

// 'uvch' in ASCII. PRAGMA application_id marks a SQLite file as ours, so that
// open() can tell a uvchat database from any other SQLite file.
constexpr int kApplicationId = 0x75766368;

// Long enough to ride out a checkpoint or a `sqlite3` shell reading the file,
// short enough that a stuck lock becomes an error rather than a hang.
constexpr int kBusyTimeoutMs = 5000;

// Schema version 1, frozen. A new database is created with it and then brought
// up to date by kMigrations, exactly like an old file, so that both end up
// with the same schema. Never edit it: add a migration instead. The comments
// are kept in sqlite_schema, so `.schema` in the sqlite3 shell shows them.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE users (
  name TEXT NOT NULL,                  -- as first registered
  name_key TEXT PRIMARY KEY NOT NULL,  -- lower-case ASCII of name
  password_hash TEXT,                  -- argon2id string; NULL: no password
  first_seen INTEGER NOT NULL,         -- Unix milliseconds
  last_seen INTEGER NOT NULL           -- Unix milliseconds
);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY,              -- assigned by the server, increasing
  received_at INTEGER NOT NULL,        -- Unix milliseconds
  sender TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('dm', 'room', 'broadcast')),
  target TEXT NOT NULL,                -- dm: recipient; room: room without '#'; broadcast: ''
  target_key TEXT NOT NULL,            -- lower-case ASCII of target
  sender_key TEXT NOT NULL,            -- lower-case ASCII of sender
  text TEXT NOT NULL,
  delivered_at INTEGER                 -- dm only: Unix milliseconds; NULL while queued
);
CREATE INDEX messages_queued ON messages (target_key, id) WHERE kind = 'dm' AND delivered_at IS NULL;
CREATE INDEX messages_room ON messages (target_key, id) WHERE kind = 'room';
CREATE INDEX messages_direct ON messages (target_key, sender_key, id) WHERE kind = 'dm';
CREATE INDEX messages_received ON messages (received_at);
)sql";

// kMigrations[i] upgrades a database from version i + 1 to version i + 2.
constexpr std::array kMigrations{
    // 2: the CHECK on kind as comparisons instead of IN (...). For an IN list
    // of three values SQLite builds a temporary table on every insert to test
    // the value against: 56,000 instructions a row instead of 25,000
    // (callgrind), the largest cost of a DM. SQLite cannot change a CHECK in
    // place, so the table is rebuilt as sqlite.org/lang_altertable.html
    // describes (section 7), with the same columns, rows and indexes.
    R"sql(
CREATE TABLE messages_v2 (
  id INTEGER PRIMARY KEY,              -- assigned by the server, increasing
  received_at INTEGER NOT NULL,        -- Unix milliseconds
  sender TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'dm' OR kind = 'room' OR kind = 'broadcast'),
  target TEXT NOT NULL,                -- dm: recipient; room: room without '#'; broadcast: ''
  target_key TEXT NOT NULL,            -- lower-case ASCII of target
  sender_key TEXT NOT NULL,            -- lower-case ASCII of sender
  text TEXT NOT NULL,
  delivered_at INTEGER                 -- dm only: Unix milliseconds; NULL while queued
);
INSERT INTO messages_v2 (id, received_at, sender, kind, target, target_key, sender_key, text, delivered_at)
  SELECT id, received_at, sender, kind, target, target_key, sender_key, text, delivered_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;
CREATE INDEX messages_queued ON messages (target_key, id) WHERE kind = 'dm' AND delivered_at IS NULL;
CREATE INDEX messages_room ON messages (target_key, id) WHERE kind = 'room';
CREATE INDEX messages_direct ON messages (target_key, sender_key, id) WHERE kind = 'dm';
CREATE INDEX messages_received ON messages (received_at);
)sql",
    // 3: DMs already delivered when they are stored go to direct_chunks, one
    // row per conversation and group commit, instead of a row each in
    // `messages` with two index entries: a DM cost the store about 25,000
    // instructions, most of the server's CPU for a DM (docs/BENCHMARKS.md).
    // all_messages shows both tables as one, for the sqlite3 shell.
    R"sql(
CREATE TABLE direct_chunks (
  last_id INTEGER PRIMARY KEY,         -- id of the chunk's last DM
  first_id INTEGER NOT NULL,           -- id of its first DM
  conversation TEXT NOT NULL,          -- both users' keys, the smaller first: 'alice bob'
  messages INTEGER NOT NULL,           -- how many DMs it holds
  delivered_until INTEGER NOT NULL,    -- the latest delivered_at among them, Unix milliseconds
  dms TEXT NOT NULL                    -- JSON, oldest first: [[id, received_at, sender, target, text, delivered_at], ...]
);
CREATE INDEX direct_chunks_conversation ON direct_chunks (conversation, last_id);
CREATE VIEW all_messages AS
  SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages
  UNION ALL
  SELECT json_extract(dm.value, '$[0]'), json_extract(dm.value, '$[1]'), json_extract(dm.value, '$[2]'), 'dm',
         json_extract(dm.value, '$[3]'), json_extract(dm.value, '$[4]'), json_extract(dm.value, '$[5]')
  FROM direct_chunks AS chunk, json_each(chunk.dms) AS dm;
)sql",
    // 4: direct_chunks in a compact format: what a row's DMs share (the
    // first id and time, the names) is said once in the row; each DM keeps
    // offsets and positions in `names`. A DM of 64 bytes took about 130
    // bytes of JSON, and SQLite's I/O for them (the WAL, then the
    // checkpoint) was the largest cost of a DM (docs/BENCHMARKS.md). Every
    // row of version 3 is converted: first each row's names and first time,
    // into a temporary table (not in the file), then its DMs, reading those
    // as columns. In one SELECT the names were an expression, computed
    // again for every DM: 25 times slower. The view is dropped first, since
    // renaming a table checks the views that use it.
    R"sql(
DROP VIEW all_messages;
CREATE TABLE direct_chunks_v4 (
  last_id INTEGER PRIMARY KEY,         -- id of the chunk's last DM
  first_id INTEGER NOT NULL,           -- id of its first DM
  conversation TEXT NOT NULL,          -- both users' keys, the smaller first: 'alice bob'
  messages INTEGER NOT NULL,           -- how many DMs it holds
  first_received INTEGER NOT NULL,     -- received_at of its first DM, Unix milliseconds
  delivered_until INTEGER NOT NULL,    -- the latest delivered_at among them, Unix milliseconds
  names TEXT NOT NULL,                 -- JSON: the names its DMs use, each spelling once: ["Alice", "bob"]
  dms TEXT NOT NULL                    -- JSON, oldest first: [[id - first_id, received_at - first_received,
                                       --   sender, target (positions in names), text, delivered_at - received_at], ...]
);
CREATE TEMP TABLE chunk_names (last_id INTEGER PRIMARY KEY, first_received INTEGER NOT NULL, names TEXT NOT NULL);
INSERT INTO chunk_names (last_id, first_received, names)
  SELECT last_id, json_extract(dms, '$[0][1]'),
         (SELECT json_group_array(DISTINCT spelling) FROM
            (SELECT json_extract(dm.value, '$[2]') AS spelling FROM json_each(dms) AS dm
             UNION ALL
             SELECT json_extract(dm.value, '$[3]') FROM json_each(dms) AS dm))
  FROM direct_chunks;
INSERT INTO direct_chunks_v4 (last_id, first_id, conversation, messages, first_received, delivered_until, names, dms)
  SELECT chunk.last_id, chunk.first_id, chunk.conversation, chunk.messages, spelt.first_received,
         chunk.delivered_until, spelt.names,
         (SELECT json_group_array(json_array(
                   json_extract(dm.value, '$[0]') - chunk.first_id,
                   json_extract(dm.value, '$[1]') - spelt.first_received,
                   (SELECT name.key FROM json_each(spelt.names) AS name WHERE name.value = json_extract(dm.value, '$[2]')),
                   (SELECT name.key FROM json_each(spelt.names) AS name WHERE name.value = json_extract(dm.value, '$[3]')),
                   json_extract(dm.value, '$[4]'),
                   json_extract(dm.value, '$[5]') - json_extract(dm.value, '$[1]')))
          FROM json_each(chunk.dms) AS dm)
  FROM direct_chunks AS chunk JOIN temp.chunk_names AS spelt ON spelt.last_id = chunk.last_id;
DROP TABLE temp.chunk_names;
DROP TABLE direct_chunks;
ALTER TABLE direct_chunks_v4 RENAME TO direct_chunks;
CREATE INDEX direct_chunks_conversation ON direct_chunks (conversation, last_id);
CREATE VIEW all_messages AS
  SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages
  UNION ALL
  SELECT chunk.first_id + json_extract(dm.value, '$[0]'), chunk.first_received + json_extract(dm.value, '$[1]'),
         json_extract(chunk.names, '$[' || json_extract(dm.value, '$[2]') || ']'), 'dm',
         json_extract(chunk.names, '$[' || json_extract(dm.value, '$[3]') || ']'), json_extract(dm.value, '$[4]'),
         chunk.first_received + json_extract(dm.value, '$[1]') + json_extract(dm.value, '$[5]')
  FROM direct_chunks AS chunk, json_each(chunk.dms) AS dm;
)sql",
};

// The most DMs one row of direct_chunks holds: a history read decodes whole
// rows, so this bounds the work past the messages it wants. 64 DMs of 64
// bytes are about 5 KB of JSON.
constexpr std::size_t kChunkMessages = 64;
constexpr int kSchemaVersion = 1 + static_cast<int>(kMigrations.size());

// "insert a message: database or disk is full"; the bare SQLite message when
// the operation goes without saying.
[[noreturn]] void fail(sqlite3* db, std::string_view operation) {
  std::string message(operation);
  if (!message.empty()) message += ": ";
  message += sqlite3_errmsg(db);
  throw StoreError(message);
}

void check(sqlite3* db, int result, std::string_view operation) {
  if (result != SQLITE_OK) fail(db, operation);
}

// Runs SQL that carries no data (schema, pragmas with our own constants).
void execute(sqlite3* db, const std::string& sql, std::string_view operation) {
  check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), operation);
}

// A prepared statement, finalized with its owner.
class Statement {
 public:
  // A statement kept for the life of the store.
  Statement(sqlite3* db, const char* sql)
      : Statement(db, sql, SQLITE_PREPARE_PERSISTENT, std::string("prepare ") + sql) {}
  // `flags`: 0 for a statement run once; `operation`: what an error is about.
  Statement(sqlite3* db, const char* sql, unsigned flags, const std::string& operation) {
    check(db, sqlite3_prepare_v3(db, sql, -1, flags, &statement_, nullptr), operation);
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// One run of a statement: binds, steps, reads columns. It resets the
// statement and clears its bindings on the way out, whether the run finished
// or threw, so that a cached statement never holds a read transaction open.
class Run {
 public:
  Run(sqlite3* db, const Statement& statement, std::string_view operation)
      : db_(db), statement_(statement.get()), operation_(operation) {}
  ~Run() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Run& bind(int index, std::int64_t value) {
    check(db_, sqlite3_bind_int64(statement_, index, value), operation_);
    return *this;
  }
  Run& bind(int index, std::string_view text) {
    // SQLITE_TRANSIENT: SQLite copies the text, so the caller's string may go.
    check(db_,
          sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
          operation_);
    return *this;
  }
  Run& bind_null(int index) {
    check(db_, sqlite3_bind_null(statement_, index), operation_);
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  bool next_row() {
    const int result = sqlite3_step(statement_);
    if (result == SQLITE_ROW) return true;
    if (result == SQLITE_DONE) return false;
    fail(db_, operation_);
  }
  // Runs a statement that returns no rows.
  void finish() {
    if (next_row()) throw StoreError(std::string(operation_) + ": unexpected row");
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::string text(int column) const { return std::string(text_view(column)); }
  // Valid until the next step.
  std::string_view text_view(int column) const {
    const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (bytes == nullptr) return {};
    return {bytes, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  std::string_view operation_;
};

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

// --- Opening ---------------------------------------------------------------

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;

// The fields of a SQLite file's 100-byte header that tell whose it is
// (https://www.sqlite.org/fileformat.html#the_database_header).
struct FileHeader {
  bool wal = false;
  std::uint32_t application_id = 0;
};

std::uint32_t big_endian_at(const std::array<unsigned char, 100>& bytes, std::size_t offset) {
  return (std::uint32_t{bytes[offset]} << 24) | (std::uint32_t{bytes[offset + 1]} << 16) |
         (std::uint32_t{bytes[offset + 2]} << 8) | std::uint32_t{bytes[offset + 3]};
}

// Empty for a missing or short file, or one without SQLite's magic string.
std::optional<FileHeader> read_header(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::array<unsigned char, 100> bytes{};
  if (!file.read(reinterpret_cast<char*>(bytes.data()), bytes.size())) return std::nullopt;
  if (std::memcmp(bytes.data(), "SQLite format 3", 16) != 0) return std::nullopt;
  FileHeader header;
  header.wal = bytes[18] == 2 || bytes[19] == 2;  // file format read/write versions
  header.application_id = big_endian_at(bytes, 68);
  return header;
}

// Turns away, from its header alone, a SQLite file that is plainly another
// application's: marked with another application_id, or in WAL mode without
// ours. SQLite cannot read a WAL database without creating -wal and -shm
// files beside it, so that must happen before SQLite opens it. Our own files
// always carry our id in the main file: it is written before WAL is enabled.
// Everything else is identified through SQLite, by read_identity.
void reject_foreign_header(const std::string& path) {
  if (path.empty() || path == ":memory:") return;
  const std::optional<FileHeader> header = read_header(path);
  if (!header || header->application_id == kApplicationId) return;
  if (header->application_id == 0 && !header->wal) return;
  std::array<char, 160> text{};
  std::snprintf(text.data(), text.size(),
                "it is not a uvchat database (application_id 0x%08x%s); it was left untouched",
                static_cast<unsigned>(header->application_id), header->wal ? ", WAL mode" : "");
  throw StoreError(text.data());
}

bool has_wal_frames(const std::string& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path + "-wal", error);
  return !error && size > 0;
}

void set_checkpoint_on_close(sqlite3* db, bool enabled) {
  check(db, sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, enabled ? 0 : 1, nullptr),
        "set checkpoint on close");
}

// SQLite counts every allocation under one global mutex, for
// sqlite3_status(); nothing here reads those counts, and they were an
// eighth of the instructions of an insert (callgrind). The setting is the
// process's and allowed only before SQLite starts: where something else
// started it first (a test), it fails and changes nothing.
void stop_memory_statistics() {
  [[maybe_unused]] static const bool stopped = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}

Connection open_connection(const std::string& path) {
  stop_memory_statistics();
  sqlite3* raw = nullptr;
  const int result = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Connection db(raw);  // sqlite3_open_v2 may hand back a handle even when it fails
  if (db == nullptr) throw StoreError("out of memory");
  if (result != SQLITE_OK) {
    std::string message = sqlite3_errmsg(db.get());
    // "unable to open database file" alone does not say why; errno does.
    if (const int system_error = sqlite3_system_errno(db.get()); system_error != 0) {
      message += std::string(" (") + std::strerror(system_error) + ")";
    }
    throw StoreError(message);
  }
  // SQLite quietly falls back to read-only for a file it may not write; the
  // first write would then fail at run time instead of here.
  if (sqlite3_db_readonly(db.get(), "main") == 1) throw StoreError("the file is read-only");
  check(db.get(), sqlite3_busy_timeout(db.get(), kBusyTimeoutMs), "set busy_timeout");
  // Until the file is known to be usable, a -wal with frames in it (left by a
  // crash, or by a newer uvchat) must stay where it is: closing the last
  // connection would otherwise checkpoint it into the main file. An empty or
  // missing -wal is checkpointed without writing a byte, and the close
  // then removes the -wal and -shm files that reading it created.
  set_checkpoint_on_close(db.get(), !has_wal_frames(path));
  return db;
}

// Settings of this connection alone (nothing is written to the file). Set
// before the schema is created, so that its commit is as durable as any.
void configure_durability(sqlite3* db) {
  // FULL: a commit has reached the disk when COMMIT returns, so a queued DM
  // survives a power cut once `server:queued` is sent. Group commit shares
  // the fsync among every write of a batch.
  execute(db, "PRAGMA synchronous = FULL", "set synchronous");
  // The schema has no foreign keys; off says so and costs nothing.
  execute(db, "PRAGMA foreign_keys = OFF", "set foreign_keys");
}

std::int64_t query_integer(sqlite3* db, const char* sql) {
  // Not persistent: run once at start-up. No operation name in errors, so
  // that a garbage file reads "cannot open PATH: file is not a database".
  Statement statement(db, sql, 0, "");
  Run run(db, statement, "");
  if (!run.next_row()) throw StoreError(std::string(sql) + ": no result");
  return run.integer(0);
}

// What the file says it is. Reading it writes nothing.
struct Identity {
  std::int64_t schema_objects = 0;  // tables, indexes, views, triggers
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
};

Identity read_identity(sqlite3* db) {
  Identity identity;
  // First, because it parses the whole schema page: a corrupt page 1 fails
  // here, before anything is written.
  identity.schema_objects = query_integer(db, "SELECT count(*) FROM sqlite_master");
  identity.application_id = query_integer(db, "PRAGMA application_id");
  identity.user_version = query_integer(db, "PRAGMA user_version");
  return identity;
}

std::string describe(const Identity& identity) {
  std::array<char, 160> text{};
  std::snprintf(text.data(), text.size(), "application_id 0x%08llx, user_version %lld, %lld schema objects",
                static_cast<unsigned long long>(identity.application_id & 0xFFFFFFFF),
                static_cast<long long>(identity.user_version),
                static_cast<long long>(identity.schema_objects));
  return text.data();
}

enum class SchemaPlan { kCreate, kUse, kUpgrade };

// Throws for anything that is not a new file or a uvchat database this build
// can use; the file has not been written to at that point.
SchemaPlan plan_schema(const Identity& identity) {
  if (identity.application_id == 0 && identity.user_version == 0 && identity.schema_objects == 0) {
    return SchemaPlan::kCreate;
  }
  if (identity.application_id != kApplicationId || identity.user_version < 1) {
    throw StoreError("it is not a uvchat database (" + describe(identity) + "); it was left untouched");
  }
  if (identity.user_version > kSchemaVersion) {
    throw StoreError("it was written by a newer uvchat (schema version " +
                     std::to_string(identity.user_version) + ", this build knows up to " +
                     std::to_string(kSchemaVersion) + "); it was left untouched");
  }
  return identity.user_version == kSchemaVersion ? SchemaPlan::kUse : SchemaPlan::kUpgrade;
}

// PRAGMAs take no bound parameters; the value is our own integer constant.
void set_user_version(sqlite3* db, int version) {
  execute(db, "PRAGMA user_version = " + std::to_string(version), "set user_version");
}

// Applies the migrations after `version`, each followed by its user_version.
void apply_migrations(sqlite3* db, int version) {
  const auto pending = std::span(kMigrations).subspan(static_cast<std::size_t>(version - 1));
  for (const char* step : pending) {
    ++version;
    execute(db, step, "upgrade to schema version " + std::to_string(version));
    set_user_version(db, version);
  }
}

// One transaction, so that a crash or an error leaves the file as it was:
// either still empty or still at its old version.
void in_transaction(sqlite3* db, const std::function<void()>& work) {
  execute(db, "BEGIN IMMEDIATE", "begin the schema transaction");
  try {
    work();
    execute(db, "COMMIT", "commit the schema");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);  // the first error is the one to report
    throw;
  }
}

void create_schema(sqlite3* db) {
  in_transaction(db, [db] {
    execute(db, "PRAGMA application_id = " + std::to_string(kApplicationId), "set application_id");
    execute(db, kSchemaV1, "create the schema");
    set_user_version(db, 1);
    apply_migrations(db, 1);
  });
}

void upgrade_schema(sqlite3* db, int from_version) {
  in_transaction(db, [db, from_version] { apply_migrations(db, from_version); });
}

void carry_out(sqlite3* db, SchemaPlan plan, const Identity& identity) {
  switch (plan) {
    case SchemaPlan::kCreate: create_schema(db); return;
    case SchemaPlan::kUpgrade: upgrade_schema(db, static_cast<int>(identity.user_version)); return;
    case SchemaPlan::kUse: return;
  }
}

// WAL: readers (the sqlite3 shell, a backup) do not block the server's writes,
// and a commit appends to one file instead of rewriting pages twice.
void enable_wal(sqlite3* db) {
  Statement statement(db, "PRAGMA journal_mode = WAL", 0, "set journal_mode");
  Run run(db, statement, "set journal_mode");
  if (!run.next_row()) throw StoreError("set journal_mode: no result");
  const std::string mode = run.text(0);
  const bool in_memory =
      sqlite3_db_filename(db, "main") == nullptr || *sqlite3_db_filename(db, "main") == '\0';
  if (mode != "wal" && !in_memory) throw StoreError("cannot use WAL (journal_mode stays " + mode + ")");
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
  Statement direct_history;
  Statement direct_chunks_of;
  Statement chunk_messages;
  Statement delete_delivered_before;
  Statement delete_chunks_delivered_before;
};

// --- Store -----------------------------------------------------------------

std::unique_ptr<Store> Store::open(const std::string& path) {
  try {
    reject_foreign_header(path);
    Connection db = open_connection(path);
    // Whose file it is must be known before the first write: journal_mode is
    // stored in the file, so even WAL waits until the schema is ours.
    const Identity identity = read_identity(db.get());
    const SchemaPlan plan = plan_schema(identity);
    set_checkpoint_on_close(db.get(), true);  // ours: a clean close folds the -wal back in
    configure_durability(db.get());
    carry_out(db.get(), plan, identity);
    enable_wal(db.get());
    auto store = std::unique_ptr<Store>(new Store(db.get()));
    static_cast<void>(db.release());  // the store owns it now
    return store;
  } catch (const StoreError& error) {
    throw StoreError("cannot open " + path + ": " + error.what());
  }
}

Store::Store(sqlite3* db)
    : db_(db),
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
