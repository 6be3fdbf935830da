// Opening a database: whose file it is, its schema and the migrations
// that bring an older one up to date, and the pragmas (docs/STORAGE.md;
// keep the two in step).
#include "schema.hpp"

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

#include "sqlite.hpp"

namespace uvchat::store {
namespace {

using sqlite::check;
using sqlite::execute;
using sqlite::fail;
using sqlite::Run;
using sqlite::Statement;

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
    // 5: the last lines said to everyone, which the classic door replays at
    // registration, without scanning every DM and room line after them.
    R"sql(
CREATE INDEX messages_broadcast ON messages (id) WHERE kind = 'broadcast';
)sql",
    // 6: users WITHOUT ROWID, one b-tree keyed by name_key. As a rowid table
    // with a TEXT primary key it was two: the table and the index
    // sqlite_autoindex_users_1, every name stored in both. 10,000 users took
    // 780 KB of pages, 556 KB without the rowid: page cache the server holds
    // for every user (the bench's RSS growth per connection), and disk. Same
    // columns, constraints and rows; nothing reads users.rowid. A table
    // cannot drop its rowid in place, so it is rebuilt as in 2.
    R"sql(
CREATE TABLE users_v6 (
  name TEXT NOT NULL,                  -- as first registered
  name_key TEXT PRIMARY KEY NOT NULL,  -- lower-case ASCII of name
  password_hash TEXT,                  -- argon2id string; NULL: no password
  first_seen INTEGER NOT NULL,         -- Unix milliseconds
  last_seen INTEGER NOT NULL           -- Unix milliseconds
) WITHOUT ROWID;
INSERT INTO users_v6 (name, name_key, password_hash, first_seen, last_seen)
  SELECT name, name_key, password_hash, first_seen, last_seen FROM users;
DROP TABLE users;
ALTER TABLE users_v6 RENAME TO users;
)sql",
};

constexpr int kSchemaVersion = 1 + static_cast<int>(kMigrations.size());

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
  // FULL while the schema is created or upgraded: that commit is on disk
  // when the server starts serving. leave_commits_to_sync() relaxes it after.
  execute(db, "PRAGMA synchronous = FULL", "set synchronous");
  // The schema has no foreign keys; off says so and costs nothing.
  execute(db, "PRAGMA foreign_keys = OFF", "set foreign_keys");
}

// From here on a COMMIT does not wait for the disk: in WAL mode NORMAL
// appends the commit to the WAL without syncing it (and still syncs before
// a checkpoint, so the file stays consistent through a power cut). The store
// worker syncs the WAL itself (Store::sync) before an answer that promises
// durability and within a second of any other commit: most commits (live
// DMs already delivered, room lines) then share one fsync a second instead
// of paying one each (docs/STORAGE.md, "When a commit reaches the disk").
void leave_commits_to_sync(sqlite3* db) { execute(db, "PRAGMA synchronous = NORMAL", "set synchronous"); }

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

sqlite3* open_database(const std::string& path) {
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
  leave_commits_to_sync(db.get());
  return db.release();
}

}  // namespace uvchat::store
