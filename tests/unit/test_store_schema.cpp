// The message store's files: what a new one holds, each older schema's
// upgrade, surviving a crash, and the files it refuses (another
// application's, a newer uvchat's, a corrupt one), left as they were.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "store_fixture.hpp"
#include "uvchat/store/store.hpp"

namespace uvchat::test {
namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using store::Store;
using store::StoreError;

constexpr std::int64_t kUvchatApplicationId = 0x75766368;
constexpr std::int64_t kSchemaVersion = 6;  // 1 + the migrations in schema.cpp

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

}  // namespace
}  // namespace uvchat::test
