// The message store: opening and identifying a database file, and every
// query's semantics, against ":memory:" and real files in a temporary folder.
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "uvchat/store/direct_chunk.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::test {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using store::MessageKind;
using store::MessageRef;
using store::Store;
using store::StoredMessage;
using store::QueuePage;
using store::StoreError;

constexpr std::int64_t kUvchatApplicationId = 0x75766368;
constexpr std::int64_t kSchemaVersion = 6;  // 1 + the migrations in schema.cpp

// A folder under the system's temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "uvchat-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::set<std::string> entries() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(path_)) names.insert(entry.path().filename().string());
    return names;
  }

 private:
  fs::path path_;
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

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A file's bytes and modification time, to show that open() did not touch it.
struct FileSnapshot {
  std::string bytes;
  fs::file_time_type modified;
  bool operator==(const FileSnapshot&) const = default;
};

FileSnapshot snapshot(const std::string& path) { return {read_bytes(path), fs::last_write_time(path)}; }

// Backdates the file so that any write, however quick, moves its mtime.
void backdate(const std::string& path) {
  fs::last_write_time(path, fs::last_write_time(path) - std::chrono::hours(1));
}

// Every file of the folder but the -shm wal-index, which is shared memory in
// a file that any reader of a WAL database may rebuild.
std::map<std::string, FileSnapshot> snapshot_files(const TempDir& dir) {
  std::map<std::string, FileSnapshot> files;
  for (const std::string& name : dir.entries()) {
    if (name.ends_with("-shm")) continue;
    backdate(dir.file(name));
    files.emplace(name, snapshot(dir.file(name)));
  }
  return files;
}

// Checks that opening `path` throws a StoreError naming the path and
// containing `expected`, and that the folder holds exactly what it held.
void check_rejected_untouched(const TempDir& dir, const std::string& path, const std::string& expected) {
  const std::set<std::string> entries_before = dir.entries();
  const auto files_before = snapshot_files(dir);
  CHECK_THROWS_WITH(Store::open(path), Contains(expected) && Contains("cannot open " + path));
  CHECK(dir.entries() == entries_before);  // no -wal, -shm or -journal created
  for (const auto& [name, before] : files_before) {
    INFO(name);
    CHECK(snapshot(dir.file(name)) == before);
  }
}

StoredMessage direct(std::int64_t id, std::string sender, std::string recipient, std::string text,
                     std::int64_t received_at = 1000) {
  StoredMessage message;
  message.id = id;
  message.received_at = received_at;
  message.sender = std::move(sender);
  message.kind = MessageKind::kDirect;
  message.target = std::move(recipient);
  message.text = std::move(text);
  return message;
}

StoredMessage delivered(std::int64_t id, std::string sender, std::string recipient, std::string text,
                        std::int64_t delivered_at = 2000) {
  StoredMessage message = direct(id, std::move(sender), std::move(recipient), std::move(text));
  message.delivered_at = delivered_at;
  return message;
}

StoredMessage room(std::int64_t id, std::string sender, std::string room_name, std::string text,
                   std::int64_t received_at = 1000) {
  StoredMessage message = direct(id, std::move(sender), std::move(room_name), std::move(text), received_at);
  message.kind = MessageKind::kRoom;
  return message;
}

StoredMessage broadcast(std::int64_t id, std::string sender, std::string text,
                        std::int64_t received_at = 1000) {
  StoredMessage message = direct(id, std::move(sender), "", std::move(text), received_at);
  message.kind = MessageKind::kBroadcast;
  return message;
}

std::vector<std::int64_t> ids_of(const std::vector<StoredMessage>& messages) {
  std::vector<std::int64_t> ids;
  ids.reserve(messages.size());
  for (const StoredMessage& message : messages) ids.push_back(message.id);
  return ids;
}

std::int64_t queued_for(Store& db, const std::string& name) {
  for (const store::StoredUser& user : db.load_users()) {
    if (user.name == name) return user.queued;
  }
  FAIL("no user " << name);
  return -1;
}

// ---------------------------------------------------------------------------
// Opening

TEST_CASE("A new in-memory store is empty", "[store]") {
  auto db = Store::open(":memory:");
  CHECK(db->load_users().empty());
  CHECK(db->max_message_id() == 0);
  CHECK(db->undelivered_directs("alice").empty());
}

TEST_CASE("A new file gets uvchat's application_id, the latest schema version and WAL", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  Store::open(path).reset();

  RawDb raw(path);
  CHECK(raw.integer("PRAGMA application_id") == kUvchatApplicationId);
  CHECK(raw.integer("PRAGMA user_version") == kSchemaVersion);
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table'") == 3);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'all_messages'") == 1);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'messages_%'") ==
        5);
}

// Version 6: users is one b-tree keyed by name_key, without a rowid and a
// second b-tree for the primary key's index.
TEST_CASE("A new file's users table is WITHOUT ROWID, keyed by name_key", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  Store::open(path).reset();

  RawDb raw(path);
  CHECK(raw.text("SELECT sql FROM sqlite_master WHERE name = 'users'").ends_with(") WITHOUT ROWID"));
  CHECK(raw.text("SELECT origin FROM pragma_index_list('users')") == "pk");
  CHECK(raw.text("SELECT group_concat(name) FROM pragma_index_info('sqlite_autoindex_users_1')") ==
        "name_key");
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE tbl_name = 'users' AND rootpage <> 0") == 1);
  CHECK_THROWS_WITH(raw.text("SELECT rowid FROM users"), Contains("no such column: rowid"));
}

TEST_CASE("A file store is in WAL mode while it is open, readable by another connection", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  auto db = Store::open(path);
  db->touch_user("alice", 1);
  RawDb raw(path);  // a second reader, as the sqlite3 shell would be
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(fs::exists(path + "-wal"));
}

TEST_CASE("Data survives closing and reopening a file", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    db->touch_user("Alice", 100);
    db->set_password_hash("alice", "$argon2id$fake");
    db->insert_message(direct(1, "bob", "alice", "while you were out"));
    db->insert_message(room(2, "bob", "team", "standup"));
  }
  auto db = Store::open(path);
  const auto users = db->load_users();
  REQUIRE(users.size() == 1);
  CHECK(users[0].name == "Alice");
  CHECK(users[0].password_hash == "$argon2id$fake");
  CHECK(users[0].queued == 1);
  CHECK(db->max_message_id() == 2);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
}

TEST_CASE("An existing empty file is initialised", "[store]") {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  write_bytes(path, "");
  Store::open(path).reset();
  CHECK(RawDb(path).integer("PRAGMA application_id") == kUvchatApplicationId);
}

TEST_CASE("An empty SQLite database without tables is initialised", "[store]") {
  TempDir dir;
  const std::string path = dir.file("empty.db");
  RawDb(path).execute("PRAGMA page_size = 4096; VACUUM");  // a valid, empty database file
  REQUIRE(fs::file_size(path) > 0);
  Store::open(path).reset();
  CHECK(RawDb(path).integer("PRAGMA user_version") == kSchemaVersion);
}

// A uvchat file with the users and messages tables of versions 1 to 3,
// which differ only in how messages checks kind.
void write_users_and_messages(RawDb& raw, const std::string& kind_check) {
  raw.execute(R"sql(
PRAGMA application_id = 1970692968;
PRAGMA journal_mode = WAL;
CREATE TABLE users (name TEXT NOT NULL, name_key TEXT PRIMARY KEY NOT NULL, password_hash TEXT,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
CREATE TABLE messages (id INTEGER PRIMARY KEY, received_at INTEGER NOT NULL, sender TEXT NOT NULL,
  kind TEXT NOT NULL CHECK ()sql" + kind_check + R"sql(), target TEXT NOT NULL,
  target_key TEXT NOT NULL, sender_key TEXT NOT NULL, text TEXT NOT NULL, delivered_at INTEGER);
CREATE INDEX messages_queued ON messages (target_key, id) WHERE kind = 'dm' AND delivered_at IS NULL;
CREATE INDEX messages_room ON messages (target_key, id) WHERE kind = 'room';
CREATE INDEX messages_direct ON messages (target_key, sender_key, id) WHERE kind = 'dm';
CREATE INDEX messages_received ON messages (received_at);
)sql");
}

// Version 1 exactly as uvchat 0.1 wrote it (schema.cpp's kSchemaV1), with
// rows of every kind in it.
void write_version_1(const std::string& path) {
  RawDb raw(path);
  write_users_and_messages(raw, "kind IN ('dm', 'room', 'broadcast')");
  raw.execute(R"sql(
INSERT INTO users VALUES ('Alice', 'alice', NULL, 1, 2), ('bob', 'bob', NULL, 1, 2);
INSERT INTO messages VALUES
  (1, 10, 'bob', 'dm', 'Alice', 'alice', 'bob', 'read already', 11),
  (2, 20, 'bob', 'dm', 'alice', 'alice', 'bob', 'while you were out', NULL),
  (3, 30, 'Alice', 'room', 'team', 'team', 'alice', 'standup', NULL),
  (4, 40, 'bob', 'broadcast', '', '', 'bob', 'hello all', NULL);
PRAGMA user_version = 1;
)sql");
}

TEST_CASE("A version 1 file is upgraded with every row, and kind is still checked", "[store]") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  write_version_1(path);
  {
    auto db = Store::open(path);
    CHECK(db->max_message_id() == 4);
    CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{2});
    CHECK(ids_of(db->direct_history("alice", "bob", 10, 4)) == std::vector<std::int64_t>{1, 2});
    CHECK(ids_of(db->room_history("team", 10, 4)) == std::vector<std::int64_t>{3});
    CHECK(db->load_users().size() == 2);
  }
  RawDb raw(path);
  CHECK(raw.integer("PRAGMA user_version") == kSchemaVersion);
  CHECK(raw.integer("SELECT count(*) FROM messages") == 4);
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'messages_%'") == 5);
  CHECK(raw.integer("SELECT count(*) FROM all_messages") == 4);
  CHECK(raw.text("PRAGMA integrity_check") == "ok");
  // The CHECK that made every insert build a temporary table is gone ...
  CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE name = 'messages' AND sql LIKE '%kind IN%'") == 0);
  // ... and a kind that is none of the three is still refused.
  CHECK_THROWS_WITH(raw.execute("INSERT INTO messages VALUES (5, 50, 'x', 'poll', '', '', 'x', 'no', NULL)"),
                    Contains("CHECK constraint failed"));
}

// Version 3 as uvchat wrote it (the schema after schema.cpp's migrations 2
// and 3), with DMs in direct_chunks in the version-3 format: two rows of
// one conversation, a user spelt two ways, text that needs escaping, a DM
// to oneself, and a queued DM in messages between them.
void write_version_3(const std::string& path) {
  RawDb raw(path);
  write_users_and_messages(raw, "kind = 'dm' OR kind = 'room' OR kind = 'broadcast'");
  raw.execute(R"sql(
CREATE TABLE direct_chunks (last_id INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, conversation TEXT NOT NULL,
  messages INTEGER NOT NULL, delivered_until INTEGER NOT NULL, dms TEXT NOT NULL);
CREATE INDEX direct_chunks_conversation ON direct_chunks (conversation, last_id);
CREATE VIEW all_messages AS
  SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages
  UNION ALL
  SELECT json_extract(dm.value, '$[0]'), json_extract(dm.value, '$[1]'), json_extract(dm.value, '$[2]'), 'dm',
         json_extract(dm.value, '$[3]'), json_extract(dm.value, '$[4]'), json_extract(dm.value, '$[5]')
  FROM direct_chunks AS chunk, json_each(chunk.dms) AS dm;
INSERT INTO users VALUES ('Alice', 'alice', NULL, 1, 2), ('bob', 'bob', NULL, 1, 2);
INSERT INTO messages VALUES (7, 1790000000007, 'bob', 'dm', 'alice', 'alice', 'bob', 'while you were out', NULL);
INSERT INTO direct_chunks VALUES
  (8, 5, 'alice bob', 3, 1790000000011,
   '[[5,1790000000000,"Alice","bob","say \"hi\"",1790000000002],'
   || '[6,1790000000001,"bob","ALICE","back\\slash café \u0001",1790000000003],'
   || '[8,1789999999990,"Alice","BOB","the clock went back",1790000000011]]'),
  (9, 9, 'alice alice', 1, 1790000000020, '[[9,1790000000020,"Alice","alice","a note",1790000000020]]'),
  (10, 4, 'alice bob', 2, 1790000000030,
   '[[4,1789999999000,"bob","Alice","late",1790000000030],[10,1790000000025,"Alice","bob","new",1790000000026]]');
PRAGMA user_version = 3;
)sql");
}

// Every message as the view shows it, one line each, by id.
std::string all_messages_listed(RawDb& raw) {
  return raw.text(
      "SELECT group_concat(line, char(10)) FROM (SELECT id || '|' || received_at || '|' || sender || '|' || kind"
      " || '|' || target || '|' || text || '|' || coalesce(delivered_at, 'queued') AS line"
      " FROM all_messages ORDER BY id)");
}

TEST_CASE("A version 3 file's chunks are converted, every DM as it was", "[store]") {
  TempDir dir;
  const std::string path = dir.file("v3.db");
  write_version_3(path);
  std::string before;
  {
    RawDb raw(path);
    before = all_messages_listed(raw);
  }
  CHECK(before.find("6|1790000000001|bob|dm|ALICE|back\\slash café \x01|1790000000003") != std::string::npos);
  {
    auto db = Store::open(path);
    CHECK(db->max_message_id() == 10);
    const auto history = db->direct_history("alice", "bob", 10, 100);
    CHECK(ids_of(history) == std::vector<std::int64_t>{4, 5, 6, 7, 8, 10});
    REQUIRE(history.size() == 6);
    CHECK(history[2].sender == "bob");
    CHECK(history[2].target == "ALICE");
    CHECK(history[2].text == "back\\slash café \x01");
    CHECK(history[2].received_at == 1'790'000'000'001);
    CHECK(history[2].delivered_at == 1'790'000'000'003);
    CHECK(history[4].target == "BOB");
    CHECK(history[4].received_at == 1'789'999'999'990);
    CHECK(ids_of(db->direct_history("ALICE", "alice", 10, 100)) == std::vector<std::int64_t>{9});
    CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{7});
  }
  RawDb raw(path);
  CHECK(raw.integer("PRAGMA user_version") == kSchemaVersion);
  CHECK(all_messages_listed(raw) == before);
  CHECK(raw.integer("SELECT count(*) FROM direct_chunks") == 3);
  CHECK(raw.integer("SELECT json_array_length(names) FROM direct_chunks WHERE last_id = 8") == 4);
  CHECK(raw.integer("SELECT first_received FROM direct_chunks WHERE last_id = 10") == 1'789'999'999'000);
  CHECK(raw.text("SELECT dms FROM direct_chunks WHERE last_id = 9") == R"([[0,0,0,1,"a note",0]])");
  CHECK(raw.text("SELECT names FROM direct_chunks WHERE last_id = 9") == R"(["Alice","alice"])");
  CHECK(raw.text("PRAGMA integrity_check") == "ok");
}

// The version-3 file above is written by hand, without the comments of
// schema.cpp: what version 4 made is compared.
TEST_CASE("An upgraded file has the chunks and view of a new one", "[store]") {
  TempDir dir;
  write_version_3(dir.file("v3.db"));
  Store::open(dir.file("v3.db"));
  Store::open(dir.file("new.db"));
  const std::string schema = "SELECT group_concat(type || ' ' || name || ': ' || sql, char(10)) FROM"
                             " (SELECT * FROM sqlite_master WHERE tbl_name IN ('direct_chunks', 'all_messages')"
                             " ORDER BY name)";
  RawDb upgraded(dir.file("v3.db"));
  RawDb created(dir.file("new.db"));
  CHECK(upgraded.text(schema) == created.text(schema));
  CHECK(created.text(schema).find("first_received") != std::string::npos);
}

// Version 5 as uvchat wrote it (the schema after schema.cpp's migrations 2
// to 5), written by hand without its comments: users with and without a
// password, spelt in any case, DMs queued for some of them (one spelt
// otherwise than the name), one delivered, a room named like a user, and a
// row of direct_chunks.
void write_version_5(const std::string& path) {
  RawDb raw(path);
  write_users_and_messages(raw, "kind = 'dm' OR kind = 'room' OR kind = 'broadcast'");
  raw.execute(R"sql(
CREATE INDEX messages_broadcast ON messages (id) WHERE kind = 'broadcast';
CREATE TABLE direct_chunks (last_id INTEGER PRIMARY KEY, first_id INTEGER NOT NULL, conversation TEXT NOT NULL,
  messages INTEGER NOT NULL, first_received INTEGER NOT NULL, delivered_until INTEGER NOT NULL,
  names TEXT NOT NULL, dms TEXT NOT NULL);
CREATE INDEX direct_chunks_conversation ON direct_chunks (conversation, last_id);
CREATE VIEW all_messages AS
  SELECT id, received_at, sender, kind, target, text, delivered_at FROM messages
  UNION ALL
  SELECT chunk.first_id + json_extract(dm.value, '$[0]'), chunk.first_received + json_extract(dm.value, '$[1]'),
         json_extract(chunk.names, '$[' || json_extract(dm.value, '$[2]') || ']'), 'dm',
         json_extract(chunk.names, '$[' || json_extract(dm.value, '$[3]') || ']'), json_extract(dm.value, '$[4]'),
         chunk.first_received + json_extract(dm.value, '$[1]') + json_extract(dm.value, '$[5]')
  FROM direct_chunks AS chunk, json_each(chunk.dms) AS dm;
INSERT INTO users VALUES
  ('Alice', 'alice', '$argon2id$v=19$m=32768,t=2,p=1$alice', 1790000000000, 1790000000500),
  ('bob', 'bob', NULL, 1790000000100, 1790000000100),
  ('CAROL.x', 'carol.x', '$argon2id$v=19$m=32768,t=2,p=1$carol', 1790000000200, 1790000000900),
  ('dave_-9', 'dave_-9', NULL, 1790000000300, 1790000000400);
INSERT INTO messages VALUES
  (1, 1790000000010, 'bob', 'dm', 'ALICE', 'alice', 'bob', 'queued one', NULL),
  (2, 1790000000020, 'bob', 'dm', 'alice', 'alice', 'bob', 'queued two', NULL),
  (3, 1790000000030, 'Alice', 'dm', 'carol.X', 'carol.x', 'alice', 'queued for carol', NULL),
  (4, 1790000000040, 'Alice', 'dm', 'bob', 'bob', 'alice', 'read already', 1790000000041),
  (5, 1790000000050, 'bob', 'room', 'dave_-9', 'dave_-9', 'bob', 'a room named like a user', NULL),
  (6, 1790000000060, 'bob', 'broadcast', '', '', 'bob', 'hello all', NULL);
INSERT INTO direct_chunks VALUES
  (8, 7, 'alice bob', 2, 1790000000070, 1790000000081, '["bob","Alice"]', '[[0,0,0,1,"hi",1],[1,10,1,0,"hi!",1]]');
PRAGMA user_version = 5;
)sql");
}

// Every user as stored, one line each, by key.
std::string users_listed(RawDb& raw) {
  return raw.text(
      "SELECT group_concat(line, char(10)) FROM (SELECT name || '|' || name_key || '|'"
      " || coalesce(password_hash, 'no password') || '|' || first_seen || '|' || last_seen AS line"
      " FROM users ORDER BY name_key)");
}

TEST_CASE("A version 5 file's users are kept, every row as it was, WITHOUT ROWID", "[store]") {
  TempDir dir;
  const std::string path = dir.file("v5.db");
  write_version_5(path);
  std::string before;
  {
    RawDb raw(path);
    before = users_listed(raw);
  }
  CHECK(before ==
        "Alice|alice|$argon2id$v=19$m=32768,t=2,p=1$alice|1790000000000|1790000000500\n"
        "bob|bob|no password|1790000000100|1790000000100\n"
        "CAROL.x|carol.x|$argon2id$v=19$m=32768,t=2,p=1$carol|1790000000200|1790000000900\n"
        "dave_-9|dave_-9|no password|1790000000300|1790000000400");
  {
    auto db = Store::open(path);
    const auto users = db->load_users();
    REQUIRE(users.size() == 4);
    CHECK(users[0].name == "Alice");
    CHECK(users[0].password_hash == "$argon2id$v=19$m=32768,t=2,p=1$alice");
    CHECK(users[0].first_seen == 1'790'000'000'000);
    CHECK(users[0].last_seen == 1'790'000'000'500);
    CHECK(users[0].queued == 2);
    CHECK(users[1].name == "bob");
    CHECK(users[1].password_hash.empty());
    CHECK(users[1].queued == 0);
    CHECK(users[2].name == "CAROL.x");
    CHECK(users[2].queued == 1);
    CHECK(users[3].name == "dave_-9");
    CHECK(users[3].queued == 0);
    CHECK(db->max_message_id() == 8);
    CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{1, 2, 4, 7, 8});
  }
  {
    RawDb raw(path);
    CHECK(raw.integer("PRAGMA user_version") == kSchemaVersion);
    CHECK(users_listed(raw) == before);
    CHECK(raw.text("SELECT sql FROM sqlite_master WHERE name = 'users'").ends_with(") WITHOUT ROWID"));
    CHECK(raw.integer("SELECT count(*) FROM sqlite_master WHERE name LIKE 'users_v%'") == 0);
    CHECK_THROWS_WITH(raw.text("SELECT rowid FROM users"), Contains("no such column: rowid"));
    CHECK(raw.text("PRAGMA integrity_check") == "ok");
  }
  // The rebuilt table takes writes as the old one did.
  auto db = Store::open(path);
  db->touch_user("ALICE", 1'790'000'001'000);  // known: only last_seen moves
  db->touch_user("Erin", 1'790'000'002'000);   // new
  db->set_password_hash("BOB", "$argon2id$bob");
  db->set_password_hash("alice", "");
  CHECK_THROWS_WITH(db->set_password_hash("nobody", "$argon2id$x"), Contains("nobody"));
  db->insert_message(direct(9, "Erin", "bob", "queued for bob"));
  const auto users = db->load_users();
  REQUIRE(users.size() == 5);
  CHECK(users[0].name == "Alice");
  CHECK(users[0].first_seen == 1'790'000'000'000);
  CHECK(users[0].last_seen == 1'790'000'001'000);
  CHECK(users[0].password_hash.empty());
  CHECK(users[1].name == "bob");
  CHECK(users[1].password_hash == "$argon2id$bob");
  CHECK(users[1].queued == 1);
  CHECK(users[2].password_hash == "$argon2id$v=19$m=32768,t=2,p=1$carol");
  CHECK(users[4].name == "Erin");
  CHECK(users[4].first_seen == 1'790'000'002'000);
  CHECK(users[4].last_seen == 1'790'000'002'000);
}

// The older files above are written by hand, without the comments of
// schema.cpp: version 6 rebuilt users as a new file has it, comments and all.
TEST_CASE("An upgraded file has the users table of a new one", "[store]") {
  TempDir dir;
  write_version_1(dir.file("v1.db"));
  write_version_3(dir.file("v3.db"));
  write_version_5(dir.file("v5.db"));
  Store::open(dir.file("new.db"));
  const std::string schema =
      "SELECT group_concat(type || ' ' || name || ' ' || (rootpage <> 0) || ': ' || sql, char(10))"
      " FROM (SELECT * FROM sqlite_master WHERE tbl_name = 'users' ORDER BY name)";
  RawDb created(dir.file("new.db"));
  CHECK(created.text(schema).find("-- lower-case ASCII of name") != std::string::npos);
  for (const char* file : {"v1.db", "v3.db", "v5.db"}) {
    INFO(file);
    Store::open(dir.file(file));
    RawDb upgraded(dir.file(file));
    CHECK(upgraded.text(schema) == created.text(schema));
  }
}

TEST_CASE("Committed writes survive a crash of the process", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  Store::open(path).reset();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child commits a batch and dies without closing anything.
    auto db = Store::open(path);
    db->begin();
    db->touch_user("alice", 1);
    db->insert_message(direct(1, "bob", "alice", "committed"));
    db->commit();
    db->begin();
    db->insert_message(direct(2, "bob", "alice", "never committed"));
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(fs::file_size(path + "-wal") > 0);  // the batch is only in the WAL

  auto db = Store::open(path);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
  CHECK(db->load_users().size() == 1);
}

TEST_CASE("A SQLite database that is not uvchat's is rejected and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  {
    RawDb raw(path);
    raw.execute("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
  }
  check_rejected_untouched(dir, path, "is not a uvchat database");
}

TEST_CASE("Another application's WAL database is rejected without creating -wal or -shm", "[store]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  RawDb(path).execute(
      "PRAGMA journal_mode = WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x')");
  REQUIRE(dir.entries() == std::set<std::string>{"other.db"});
  check_rejected_untouched(dir, path, "is not a uvchat database");
}

TEST_CASE("Another application's WAL database with uncheckpointed writes is left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  {
    RawDb raw(path);
    raw.execute("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
    raw.execute("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('only in the wal')");
    raw.leave_wal_on_close();
  }
  REQUIRE(fs::file_size(path + "-wal") > 0);
  check_rejected_untouched(dir, path, "is not a uvchat database");
}

TEST_CASE("An empty SQLite database marked by another application is rejected", "[store]") {
  TempDir dir;
  const std::string path = dir.file("other.db");
  RawDb(path).execute("PRAGMA application_id = 42");
  check_rejected_untouched(dir, path, "is not a uvchat database");
}

TEST_CASE("A database with uvchat's application_id but no schema version is rejected", "[store]") {
  TempDir dir;
  const std::string path = dir.file("odd.db");
  RawDb(path).execute("PRAGMA application_id = " + std::to_string(kUvchatApplicationId));
  check_rejected_untouched(dir, path, "is not a uvchat database");
}

TEST_CASE("A database from a newer uvchat is rejected and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  Store::open(path).reset();
  RawDb(path).execute("PRAGMA user_version = 99");
  check_rejected_untouched(dir, path, "was written by a newer uvchat");
}

TEST_CASE("A newer schema version still in the WAL is rejected, and the WAL is not checkpointed", "[store]") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  Store::open(path).reset();
  {
    RawDb raw(path);
    raw.execute("PRAGMA wal_autocheckpoint = 0; PRAGMA user_version = 99");
    raw.leave_wal_on_close();
  }
  REQUIRE(fs::file_size(path + "-wal") > 0);
  check_rejected_untouched(dir, path, "was written by a newer uvchat");
}

TEST_CASE("A file that is not a database is rejected and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 131 + 7) % 251);
  write_bytes(path, garbage);
  check_rejected_untouched(dir, path, "file is not a database");
}

TEST_CASE("A uvchat database with a corrupt schema page is rejected and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("corrupt.db");
  Store::open(path).reset();
  // Keep the 100-byte header (it still says uvchat, version 1) and scramble
  // the rest of page 1, where the schema lives.
  std::string bytes = read_bytes(path);
  REQUIRE(bytes.size() > 4096);
  for (std::size_t i = 100; i < 4096; ++i) bytes[i] = static_cast<char>(0xA5 ^ (i & 0xFF));
  write_bytes(path, bytes);
  check_rejected_untouched(dir, path, "malformed");
}

TEST_CASE("A path in a missing folder is rejected, and the folder is not created", "[store]") {
  TempDir dir;
  const std::string path = dir.file("missing") + "/uvchat.db";
  CHECK_THROWS_AS(Store::open(path), StoreError);
  CHECK_THROWS_WITH(Store::open(path),
                    Contains("cannot open " + path) && Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(dir.file("missing")));
}

// ---------------------------------------------------------------------------
// Users

TEST_CASE("touch_user adds a user, then only moves last_seen", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 100);
  db->touch_user("ALICE", 250);
  db->touch_user("bob", 300);

  const auto users = db->load_users();
  REQUIRE(users.size() == 2);
  CHECK(users[0].name == "Alice");  // the first spelling stays
  CHECK(users[0].first_seen == 100);
  CHECK(users[0].last_seen == 250);
  CHECK(users[0].password_hash.empty());
  CHECK(users[1].name == "bob");
  CHECK(users[1].first_seen == 300);
  CHECK(users[1].last_seen == 300);
}

TEST_CASE("set_password_hash finds the user case-insensitively, and empty clears it", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 1);
  db->set_password_hash("aLiCe", "$argon2id$v=19$hash");
  CHECK(db->load_users().at(0).password_hash == "$argon2id$v=19$hash");
  db->set_password_hash("alice", "");
  CHECK(db->load_users().at(0).password_hash.empty());
}

TEST_CASE("set_password_hash of an unknown user is an error", "[store]") {
  auto db = Store::open(":memory:");
  CHECK_THROWS_WITH(db->set_password_hash("nobody", "$argon2id$x"), Contains("nobody"));
}

TEST_CASE("load_users counts each user's undelivered DMs", "[store]") {
  auto db = Store::open(":memory:");
  db->touch_user("Alice", 1);
  db->touch_user("bob", 1);
  db->touch_user("carol", 1);
  db->insert_message(direct(1, "bob", "alice", "one"));
  db->insert_message(direct(2, "bob", "ALICE", "two"));
  db->insert_message(direct(3, "alice", "bob", "three"));
  db->insert_message(room(4, "bob", "alice", "a room named like a user"));
  db->insert_message(direct(5, "carol", "Alice", "four"));
  const std::array<std::int64_t, 1> delivered{3};
  db->mark_delivered(delivered, 2000);

  CHECK(queued_for(*db, "Alice") == 3);
  CHECK(queued_for(*db, "bob") == 0);
  CHECK(queued_for(*db, "carol") == 0);
}

// ---------------------------------------------------------------------------
// Messages and the offline queue

TEST_CASE("Messages keep every field, including text that looks like SQL", "[store]") {
  auto db = Store::open(":memory:");
  StoredMessage message =
      direct(7, "Bob", "Alice", "it's'); DROP TABLE messages; -- \xC3\xA9t\xC3\xA9 \xF0\x9F\x99\x82",
             1'700'000'000'123);
  db->insert_message(message);

  const auto queued = db->undelivered_directs("alice");
  REQUIRE(queued.size() == 1);
  CHECK(queued[0].id == 7);
  CHECK(queued[0].received_at == 1'700'000'000'123);
  CHECK(queued[0].sender == "Bob");
  CHECK(queued[0].kind == MessageKind::kDirect);
  CHECK(queued[0].target == "Alice");
  CHECK(queued[0].text == message.text);
  CHECK_FALSE(queued[0].delivered_at.has_value());
}

TEST_CASE("max_message_id is the largest id stored", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(room(5, "bob", "team", "a"));
  db->insert_message(broadcast(9, "bob", "b"));
  db->insert_message(direct(7, "bob", "alice", "c"));
  CHECK(db->max_message_id() == 9);
}

TEST_CASE("A duplicate message id is a StoreError naming the operation", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(room(1, "bob", "team", "a"));
  CHECK_THROWS_WITH(db->insert_message(room(1, "bob", "team", "b")), Contains("insert a message"));
}

TEST_CASE("undelivered_directs: only the recipient's queued DMs, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(3, "bob", "Alice", "first"));
  db->insert_message(direct(4, "carol", "alice", "second"));
  db->insert_message(direct(5, "alice", "bob", "to bob"));
  db->insert_message(room(6, "bob", "alice", "a room"));
  db->insert_message(broadcast(7, "bob", "everyone"));
  db->insert_message(direct(8, "bob", "ALICE", "third"));

  CHECK(ids_of(db->undelivered_directs("aLiCe")) == std::vector<std::int64_t>{3, 4, 8});
  const std::array<std::int64_t, 1> delivered{4};
  db->mark_delivered(delivered, 2000);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{3, 8});
  CHECK(db->undelivered_directs("nobody").empty());
}

TEST_CASE("undelivered_directs: a page of a queue, by range, count and bytes", "[store][replay]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 9; ++id) {
    db->insert_message(direct(id, "bob", id % 3 == 0 ? "carol" : "alice", std::string(10, 'x')));
  }
  // alice's: 1 2 4 5 7 8.
  QueuePage page;
  page.max_count = 2;
  QueuePage read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{1, 2});
  CHECK(read.more);

  page.after = 2;
  page.up_to = 7;
  page.max_count = 10;
  page.max_bytes = 15;  // a second DM passes it: two
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{4, 5});
  CHECK(read.more);

  page.after = 5;
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{7});
  CHECK_FALSE(read.more);  // 8 is past up_to

  page.max_bytes = 1;  // one DM, however long
  page.after = 0;
  page.up_to = 100;
  read = db->undelivered_directs("alice", page);
  CHECK(ids_of(read.messages) == std::vector<std::int64_t>{1});
  CHECK(read.more);

  page.after = 8;  // the last one: no empty page after it
  read = db->undelivered_directs("alice", page);
  CHECK(read.messages.empty());
  CHECK_FALSE(read.more);

  CHECK(db->count_undelivered("ALICE", 7) == 5);
  const std::array<std::int64_t, 2> delivered{2, 4};
  db->mark_delivered(delivered, 2000);
  CHECK(db->count_undelivered("alice", 7) == 3);
  CHECK(db->count_undelivered("alice", 100) == 4);
  CHECK(db->count_undelivered("nobody", 100) == 0);
}

TEST_CASE("mark_delivered sets delivered_at once and ignores repeats", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "bob", "alice", "hi"));
  db->insert_message(direct(2, "bob", "alice", "again"));
  const std::array<std::int64_t, 2> both{1, 2};
  const std::array<std::int64_t, 2> first_and_unknown{1, 99};
  db->mark_delivered(std::span<const std::int64_t>(both).first(1), 2000);
  db->mark_delivered(first_and_unknown, 5000);  // 1 is delivered already; 99 does not exist
  db->mark_delivered(both, 3000);
  db->mark_delivered({}, 4000);

  const auto history = db->direct_history("alice", "bob", 10, 100);
  REQUIRE(history.size() == 2);
  CHECK(history[0].delivered_at == std::optional<std::int64_t>(2000));
  CHECK(history[1].delivered_at == std::optional<std::int64_t>(3000));
  CHECK(db->undelivered_directs("alice").empty());
}

// ---------------------------------------------------------------------------
// History

TEST_CASE("broadcast_history: the last N lines to everyone up to an id, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 6; ++id) {
    StoredMessage line = direct(id, "bob", "", "news " + std::to_string(id));
    line.kind = MessageKind::kBroadcast;
    db->insert_message(line);
  }
  db->insert_message(room(7, "bob", "team", "not to everyone"));
  db->insert_message(direct(8, "bob", "alice", "nor this"));

  CHECK(ids_of(db->broadcast_history(3, 100)) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(ids_of(db->broadcast_history(2, 4)) == std::vector<std::int64_t>{3, 4});
  CHECK(ids_of(db->broadcast_history(100, 100)) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(db->broadcast_history(0, 100).empty());
  CHECK(db->broadcast_history(-1, 100).empty());
  CHECK(db->broadcast_history(5, 100).back().text == "news 6");
}

TEST_CASE("room_history: the last N up to an id, oldest first, case-insensitive", "[store]") {
  auto db = Store::open(":memory:");
  for (std::int64_t id = 1; id <= 10; ++id)
    db->insert_message(room(id, "bob", id % 2 ? "Team" : "team", "m"));
  db->insert_message(room(11, "bob", "other", "elsewhere"));
  db->insert_message(direct(12, "bob", "team", "a DM to a user named team"));
  db->insert_message(room(13, "bob", "TEAM", "latest"));

  CHECK(ids_of(db->room_history("team", 3, 100)) == std::vector<std::int64_t>{9, 10, 13});
  CHECK(ids_of(db->room_history("TeAm", 3, 10)) == std::vector<std::int64_t>{8, 9, 10});
  CHECK(ids_of(db->room_history("team", 100, 4)) == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(db->room_history("team", 0, 100).empty());
  CHECK(db->room_history("team", -1, 100).empty());
  CHECK(db->room_history("nowhere", 5, 100).empty());

  const auto latest = db->room_history("team", 1, 100);
  REQUIRE(latest.size() == 1);
  CHECK(latest[0].kind == MessageKind::kRoom);
  CHECK(latest[0].target == "TEAM");
  CHECK(latest[0].text == "latest");
}

TEST_CASE("direct_history: both directions between two users, oldest first", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "Alice", "bob", "a->b"));
  db->insert_message(direct(2, "bob", "alice", "b->a"));
  db->insert_message(direct(3, "carol", "alice", "c->a"));
  db->insert_message(direct(4, "alice", "carol", "a->c"));
  db->insert_message(room(5, "alice", "bob", "room named bob"));
  db->insert_message(direct(6, "BOB", "ALICE", "b->a again"));
  db->insert_message(direct(7, "alice", "bob", "a->b again"));
  const std::array<std::int64_t, 1> delivered{2};
  db->mark_delivered(delivered, 2000);  // delivered or queued, both are history

  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{1, 2, 6, 7});
  CHECK(ids_of(db->direct_history("BOB", "Alice", 10, 100)) == std::vector<std::int64_t>{1, 2, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 100)) == std::vector<std::int64_t>{6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 6)) == std::vector<std::int64_t>{2, 6});
  CHECK(ids_of(db->direct_history("alice", "carol", 10, 100)) == std::vector<std::int64_t>{3, 4});
  CHECK(db->direct_history("alice", "bob", 0, 100).empty());
  CHECK(db->direct_history("bob", "carol", 10, 100).empty());
}

TEST_CASE("direct_history with oneself lists each DM once", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "alice", "Alice", "note to self"));
  db->insert_message(direct(2, "alice", "bob", "to bob"));
  db->insert_message(direct(3, "ALICE", "alice", "another note"));
  CHECK(ids_of(db->direct_history("alice", "alice", 10, 100)) == std::vector<std::int64_t>{1, 3});
}

// ---------------------------------------------------------------------------
// Delivered DMs in direct_chunks

// Several delivered DMs, as the store worker hands them over: any order.
std::vector<StoredMessage> delivered_batch(std::initializer_list<StoredMessage> messages) { return messages; }

std::vector<MessageRef> refs_to(const std::vector<StoredMessage>& messages) { return {messages.begin(), messages.end()}; }

void insert_delivered(Store& db, const std::vector<StoredMessage>& messages) {
  db.insert_delivered_directs(refs_to(messages));
}

TEST_CASE("A conversation's key is both names' keys, the smaller first", "[store]") {
  CHECK(store::conversation_key("Bob", "alice") == "alice bob");
  CHECK(store::conversation_key("ALICE", "Bob") == "alice bob");
  CHECK(store::conversation_key("al", "Alice") == "al alice");
  CHECK(store::conversation_key("Alice", "al") == "al alice");
  CHECK(store::conversation_key("alice", "ALICE") == "alice alice");
  std::string key = "a long key that was there before";
  store::conversation_key_into(key, "Zed", "y.2");
  CHECK(key == "y.2 zed");
}

StoredMessage delivered_at(std::int64_t id, std::string sender, std::string recipient, std::string text,
                           std::int64_t received_at, std::int64_t delivered_at) {
  StoredMessage message = direct(id, std::move(sender), std::move(recipient), std::move(text), received_at);
  message.delivered_at = delivered_at;
  return message;
}

std::vector<const MessageRef*> pointers_to(const std::vector<MessageRef>& messages) {
  std::vector<const MessageRef*> pointers;
  for (const MessageRef& message : messages) pointers.push_back(&message);
  return pointers;
}

TEST_CASE("A chunk says its names once, and each DM as offsets and name positions", "[store]") {
  const std::vector<StoredMessage> chunk{
      delivered_at(41, "Alice", "bob", "hi bob", 1'790'000'000'000, 1'790'000'000'002),
      delivered_at(43, "bob", "Alice", "hi!", 1'790'000'000'001, 1'790'000'000'002),
      delivered_at(44, "Alice", "BOB", "say \"hi\" \\ \x01", 1'790'000'000'005, 1'790'000'000'006)};
  store::DirectChunkWriter writer;
  writer.write(pointers_to(refs_to(chunk)));
  CHECK(writer.names() == R"(["Alice","bob","BOB"])");
  CHECK(writer.dms() == R"([[0,0,0,1,"hi bob",2],[2,1,1,0,"hi!",1],[3,5,0,2,"say \"hi\" \\ \u0001",1]])");
  CHECK(writer.delivered_until() == 1'790'000'000'006);

  // The clock went back: offsets below zero, and the latest delivery still found.
  const std::vector<StoredMessage> back{delivered_at(7, "a", "b", "x", 5'000, 9'000),
                                        delivered_at(8, "a", "b", "y", 4'000, 3'500)};
  writer.write(pointers_to(refs_to(back)));
  CHECK(writer.names() == R"(["a","b"])");
  CHECK(writer.dms() == R"([[0,0,0,1,"x",4000],[1,-1000,0,1,"y",-500]])");
  CHECK(writer.delivered_until() == 9'000);
}

// Each conversation's ids, in the order for_each gives them.
std::vector<std::vector<std::int64_t>> grouped(store::Conversations& conversations) {
  std::vector<std::vector<std::int64_t>> groups;
  conversations.for_each([&](std::span<const MessageRef* const> dms) {
    groups.emplace_back();
    for (const MessageRef* dm : dms) groups.back().push_back(dm->id);
  });
  return groups;
}

void check_grouping(store::Conversations& conversations) {
  const std::vector<StoredMessage> messages{
      delivered(3, "Bob", "ALICE", "b->a"), delivered(2, "carol", "alice", "c->a"),
      delivered(1, "alice", "bob", "a->b"), delivered(5, "alice", "alice", "a->a"),
      delivered(4, "Alice", "Carol", "a->c"), delivered(6, "bob", "alice", "b->a"),
      delivered(7, "al", "ice", "not alice")};
  const std::vector<MessageRef> batch = refs_to(messages);
  for (const MessageRef& dm : batch) conversations.add(dm);
  CHECK(grouped(conversations) == std::vector<std::vector<std::int64_t>>{{1, 3, 6}, {2, 4}, {5}, {7}});
  conversations.clear();
  CHECK(grouped(conversations).empty());
  // Used again, with the vectors of the last batch.
  const std::vector<MessageRef> again{batch[5], batch[6], batch[0]};
  for (const MessageRef& dm : again) conversations.add(dm);
  CHECK(grouped(conversations) == std::vector<std::vector<std::int64_t>>{{3, 6}, {7}});
}

TEST_CASE("A batch's DMs are grouped by conversation, in any case and direction, oldest first", "[store]") {
  store::Conversations conversations;
  check_grouping(conversations);
}

TEST_CASE("Conversations whose hashes collide are still told apart by their names", "[store]") {
  store::Conversations conversations([](std::string_view, std::string_view) -> std::uint64_t { return 7; });
  check_grouping(conversations);
}

// The obvious escaping, one byte at a time, to check the fast one against.
std::string escaped_slowly(const std::string& text) {
  std::string json = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      json += '\\';
      json += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", static_cast<unsigned char>(c));
      json += code;
    } else {
      json += c;
    }
  }
  return json + "\"";
}

TEST_CASE("Escaping finds a special byte at any place in a long text", "[store]") {
  const std::string plain = "0123456789abcdef0123456789\xc3\xa9\xe2\x98\x83 ok";
  for (const char special : {'"', '\\', '\x01', '\x1f', '\n', '\x00'}) {
    for (std::size_t at = 0; at <= plain.size(); ++at) {
      std::string text = plain;
      text.insert(at, 1, special);
      const std::vector<StoredMessage> chunk{delivered(1, "a", "b", text, 1002)};
      store::DirectChunkWriter writer;
      writer.write(pointers_to(refs_to(chunk)));
      INFO("byte " << static_cast<int>(special) << " at " << at);
      CHECK(writer.dms() == "[[0,0,0,1," + escaped_slowly(text) + ",2]]");
    }
  }
}

TEST_CASE("Delivered DMs are one row per conversation, and history reads them with the rest", "[store]") {
  auto db = Store::open(":memory:");
  db->insert_message(direct(1, "alice", "bob", "queued, then delivered"));
  auto batch = delivered_batch({delivered(4, "carol", "alice", "c->a"), delivered(3, "Bob", "ALICE", "b->a"),
                                delivered(2, "alice", "bob", "a->b"), delivered(6, "alice", "bob", "a->b again")});
  insert_delivered(*db, batch);
  db->insert_message(direct(5, "bob", "alice", "queued"));
  auto later = delivered_batch({delivered(7, "bob", "alice", "b->a later")});
  insert_delivered(*db, later);

  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{1, 2, 3, 5, 6, 7});
  CHECK(ids_of(db->direct_history("BOB", "alice", 10, 100)) == std::vector<std::int64_t>{1, 2, 3, 5, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 100)) == std::vector<std::int64_t>{5, 6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 5)) == std::vector<std::int64_t>{2, 3, 5});
  CHECK(ids_of(db->direct_history("alice", "bob", 1, 2)) == std::vector<std::int64_t>{2});
  CHECK(ids_of(db->direct_history("alice", "carol", 10, 100)) == std::vector<std::int64_t>{4});
  CHECK(db->direct_history("bob", "carol", 10, 100).empty());
  CHECK(db->max_message_id() == 7);
  // Delivered DMs are nobody's queue.
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{5});
  CHECK(ids_of(db->undelivered_directs("bob")) == std::vector<std::int64_t>{1});

  const auto history = db->direct_history("alice", "bob", 10, 100);
  CHECK(history[2].sender == "Bob");
  CHECK(history[2].target == "ALICE");
  CHECK(history[2].kind == MessageKind::kDirect);
  CHECK(history[2].received_at == 1000);
  CHECK(history[2].delivered_at == 2000);
}

TEST_CASE("A chunk keeps any text intact: quotes, backslashes, controls, UTF-8, SQL", "[store]") {
  const std::vector<std::string> texts{"say \"hi\"", "back\\slash", "tab\tbell\a\x1b[31m",
                                       "caf\u00e9 \u2603 \U0001F600", "'); DROP TABLE messages; --", "",
                                       "[1,2,\"]\"]"};
  auto db = Store::open(":memory:");
  std::vector<StoredMessage> batch;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    batch.push_back(delivered(static_cast<std::int64_t>(i) + 1, "alice", "bob", texts[i]));
  }
  insert_delivered(*db, batch);
  const auto history = db->direct_history("alice", "bob", 100, 100);
  REQUIRE(history.size() == texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i) CHECK(history[i].text == texts[i]);
}

TEST_CASE("Chunks of any size in turn are written whole: short, then long, then short", "[store]") {
  auto db = Store::open(":memory:");
  const std::vector<std::string> texts{"hi", std::string(3000, '"'), std::string(4000, 'x') + "\\", "ok"};
  std::vector<std::string> expected;
  std::int64_t id = 0;
  for (const std::string& text : texts) {
    std::vector<StoredMessage> batch;
    for (int i = 0; i < 3; ++i) batch.push_back(delivered(++id, "alice", "bob", text + std::to_string(i)));
    insert_delivered(*db, batch);
    for (int i = 0; i < 3; ++i) expected.push_back(text + std::to_string(i));
  }
  const auto history = db->direct_history("alice", "bob", 100, 100);
  REQUIRE(history.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) CHECK(history[i].text == expected[i]);
}

TEST_CASE("A delivered DM with a NUL in its text is kept whole, as a row of messages", "[store]") {
  const std::string text("before\0after", 12);
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    auto batch = delivered_batch({delivered(1, "alice", "bob", text), delivered(2, "alice", "bob", "plain")});
    insert_delivered(*db, batch);
    const auto history = db->direct_history("alice", "bob", 10, 10);
    REQUIRE(history.size() == 2);
    CHECK(history[0].text == text);
    CHECK(history[0].delivered_at == 2000);
    CHECK(ids_of(db->undelivered_directs("bob")).empty());
  }
  RawDb raw(path);
  CHECK(raw.integer("SELECT count(*) FROM messages") == 1);
  CHECK(raw.integer("SELECT count(*) FROM direct_chunks") == 1);
}

TEST_CASE("A conversation's delivered DMs are split into rows of at most 64", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    std::vector<StoredMessage> batch;
    for (std::int64_t id = 1; id <= 150; ++id) {
      batch.push_back(delivered(id, id % 2 ? "alice" : "bob", id % 2 ? "bob" : "alice", std::to_string(id)));
    }
    insert_delivered(*db, batch);
    std::vector<std::int64_t> expected;
    for (std::int64_t id = 51; id <= 150; ++id) expected.push_back(id);
    CHECK(ids_of(db->direct_history("alice", "bob", 100, 1000)) == expected);
    CHECK(ids_of(db->direct_history("alice", "bob", 2, 65)) == std::vector<std::int64_t>{64, 65});
  }
  RawDb raw(path);
  CHECK(raw.integer("SELECT count(*) FROM direct_chunks") == 3);
  CHECK(raw.integer("SELECT max(messages) FROM direct_chunks") == 64);
  CHECK(raw.integer("SELECT sum(messages) FROM direct_chunks") == 150);
  // The view shows every DM as a row, for the sqlite3 shell.
  CHECK(raw.integer("SELECT count(*) FROM all_messages WHERE kind = 'dm' AND delivered_at = 2000") == 150);
  CHECK(raw.text("SELECT text FROM all_messages WHERE id = 77") == "77");
  CHECK(raw.text("SELECT sender FROM all_messages WHERE id = 77") == "alice");
}

TEST_CASE("insert_delivered_directs refuses a queued DM or a room message", "[store]") {
  auto db = Store::open(":memory:");
  auto queued = delivered_batch({direct(1, "alice", "bob", "not delivered")});
  CHECK_THROWS_WITH(insert_delivered(*db, queued), Contains("message 1 is not a delivered DM"));
  StoredMessage room_message = room(2, "alice", "team", "a room");
  room_message.delivered_at = 2000;
  auto rooms = delivered_batch({room_message});
  CHECK_THROWS_WITH(insert_delivered(*db, rooms), Contains("message 2 is not a delivered DM"));
}

TEST_CASE("History is right when a DM delivered late lands in a later row than newer ones", "[store]") {
  auto db = Store::open(":memory:");
  // 3 and 8 were delivered after 5 and 6 had been written: the two rows'
  // id ranges, 5..6 and 3..8, overlap.
  auto first = delivered_batch({delivered(5, "bob", "alice", "5"), delivered(6, "bob", "alice", "6")});
  insert_delivered(*db, first);
  auto second = delivered_batch({delivered(8, "alice", "bob", "8"), delivered(3, "alice", "bob", "3")});
  insert_delivered(*db, second);
  db->insert_message(direct(7, "alice", "bob", "7, queued"));

  CHECK(ids_of(db->direct_history("alice", "bob", 2, 100)) == std::vector<std::int64_t>{7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 3, 100)) == std::vector<std::int64_t>{6, 7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{3, 5, 6, 7, 8});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 7)) == std::vector<std::int64_t>{6, 7});
  CHECK(ids_of(db->direct_history("alice", "bob", 2, 6)) == std::vector<std::int64_t>{5, 6});
  CHECK(ids_of(db->direct_history("alice", "bob", 5, 4)) == std::vector<std::int64_t>{3});
  CHECK(db->direct_history("alice", "bob", 5, 2).empty());
}

TEST_CASE("A DM to oneself in a chunk is listed once", "[store]") {
  auto db = Store::open(":memory:");
  auto batch = delivered_batch({delivered(1, "alice", "Alice", "note"), delivered(2, "alice", "bob", "to bob")});
  insert_delivered(*db, batch);
  CHECK(ids_of(db->direct_history("alice", "alice", 10, 100)) == std::vector<std::int64_t>{1});
}

// ---------------------------------------------------------------------------
// Retention

TEST_CASE("Retention deletes old rooms, broadcasts and delivered DMs, never a queued DM", "[store]") {
  auto db = Store::open(":memory:");
  constexpr std::int64_t kCutoff = 10'000;
  db->insert_message(room(1, "bob", "team", "old room", 1'000));
  db->insert_message(broadcast(2, "bob", "old broadcast", 1'000));
  db->insert_message(direct(3, "bob", "alice", "old, delivered long ago", 1'000));
  db->insert_message(direct(4, "bob", "alice", "old, delivered after the cutoff", 1'000));
  db->insert_message(direct(5, "bob", "alice", "old, never delivered", 1'000));
  db->insert_message(room(6, "bob", "team", "new room", 20'000));
  db->insert_message(broadcast(7, "bob", "new broadcast", 20'000));
  db->insert_message(direct(8, "bob", "carol", "new, delivered", 20'000));
  const std::array<std::int64_t, 1> early{3};
  const std::array<std::int64_t, 2> late{4, 8};
  db->mark_delivered(early, 2'000);
  db->mark_delivered(late, 30'000);

  CHECK(db->delete_delivered_before(kCutoff) == 3);
  CHECK(ids_of(db->room_history("team", 10, 100)) == std::vector<std::int64_t>{6});
  CHECK(ids_of(db->direct_history("bob", "alice", 10, 100)) == std::vector<std::int64_t>{4, 5});
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{5});
  CHECK(db->delete_delivered_before(kCutoff) == 0);
  CHECK(db->delete_delivered_before(1'000'000) == 4);  // 4, 6, 7 and 8
  CHECK(db->max_message_id() == 5);                    // the queued DM stays, however old
}

TEST_CASE("Retention deletes chunks of DMs all delivered before the cutoff, and counts their DMs", "[store]") {
  auto db = Store::open(":memory:");
  auto old_batch = delivered_batch({delivered(1, "alice", "bob", "old", 2'000), delivered(2, "bob", "alice", "old", 3'000),
                                    delivered(3, "carol", "bob", "old", 2'000)});
  insert_delivered(*db, old_batch);
  auto straddling = delivered_batch({delivered(4, "alice", "bob", "before", 9'000),
                                     delivered(5, "alice", "bob", "after", 11'000)});
  insert_delivered(*db, straddling);
  auto recent = delivered_batch({delivered(6, "carol", "bob", "new", 20'000)});
  insert_delivered(*db, recent);

  CHECK(db->delete_delivered_before(10'000) == 3);  // 1, 2 and 3; 4 shares its row with 5
  CHECK(ids_of(db->direct_history("alice", "bob", 10, 100)) == std::vector<std::int64_t>{4, 5});
  CHECK(ids_of(db->direct_history("carol", "bob", 10, 100)) == std::vector<std::int64_t>{6});
  CHECK(db->delete_delivered_before(10'000) == 0);
  CHECK(db->delete_delivered_before(1'000'000) == 3);
  CHECK(db->max_message_id() == 0);
}

// ---------------------------------------------------------------------------
// Transactions

TEST_CASE("commit keeps a batch and rollback discards one", "[store]") {
  TempDir dir;
  const std::string path = dir.file("uvchat.db");
  {
    auto db = Store::open(path);
    db->begin();
    db->touch_user("alice", 1);
    db->insert_message(direct(1, "bob", "alice", "kept"));
    db->commit();

    db->begin();
    db->touch_user("bob", 2);
    db->insert_message(direct(2, "bob", "alice", "discarded"));
    const std::array<std::int64_t, 1> first{1};
    db->mark_delivered(first, 3);
    db->rollback();

    CHECK(db->load_users().size() == 1);
    CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
  }
  auto db = Store::open(path);
  CHECK(db->max_message_id() == 1);
  CHECK(ids_of(db->undelivered_directs("alice")) == std::vector<std::int64_t>{1});
}

TEST_CASE("rollback without a transaction does nothing", "[store]") {
  auto db = Store::open(":memory:");
  CHECK_NOTHROW(db->rollback());
  db->begin();
  db->rollback();
  CHECK_NOTHROW(db->rollback());
}

TEST_CASE("A failed write inside a batch can be rolled back and the store goes on", "[store]") {
  auto db = Store::open(":memory:");
  db->begin();
  db->insert_message(room(1, "bob", "team", "a"));
  CHECK_THROWS_AS(db->insert_message(room(1, "bob", "team", "duplicate")), StoreError);
  db->rollback();
  CHECK(db->max_message_id() == 0);
  db->begin();
  db->insert_message(room(1, "bob", "team", "again"));
  db->commit();
  CHECK(db->max_message_id() == 1);
}

TEST_CASE("begin inside a transaction is a StoreError", "[store]") {
  auto db = Store::open(":memory:");
  db->begin();
  CHECK_THROWS_WITH(db->begin(), Contains("begin a transaction"));
  db->rollback();
}

}  // namespace
}  // namespace uvchat::test
