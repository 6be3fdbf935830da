// The --db file: a new one is created, and one that cannot be opened or is
// not a uvchat database is a clear error at start-up (exit 1) that leaves it
// as it was.
#include <catch2/catch.hpp>
#include <csignal>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

constexpr int kUvchatApplicationId = 0x75766368;  // "uvch"

// uvchatd refuses `path`: it exits 1 with a message that names the file and
// has each of `mentions`, and the directory holds the same files, with the
// same bytes, as before.
void expect_refused(const TempDir& dir, const std::string& path, const std::vector<std::string>& mentions) {
  const std::vector<std::string> names_before = dir.names();
  const std::optional<std::string> bytes_before = read_file_bytes(path);
  const RunResult run = run_uvchatd({"--host", "127.0.0.1", "--port", "0", "--db", path});
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 1");
  CHECK_THAT(run.err, Catch::Contains("cannot open " + path));
  for (const std::string& mention : mentions) CHECK_THAT(run.err, Catch::Contains(mention));
  CHECK_THAT(run.err, !Catch::Contains("listening on"));
  CHECK(dir.names() == names_before);
  CHECK(read_file_bytes(path) == bytes_before);
}

// A database made by the sqlite3 shell from `sql`, or nothing (with a
// warning) when the shell is not installed.
std::optional<std::string> make_database(const TempDir& dir, const std::string& name,
                                         const std::string& sql) {
  const std::string path = dir.file(name);
  if (!sqlite3_output(path, sql, /*read_only=*/false)) {
    WARN("the sqlite3 shell is not installed: no test with " << name);
    return std::nullopt;
  }
  return path;
}

// Deterministic bytes that mean nothing.
std::string garbage_bytes(std::size_t size) {
  std::string bytes;
  for (std::size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>((i * 7919 + 13) % 256));
  return bytes;
}

// Replaces `size` bytes from `offset` on with garbage: in the first page, past
// the 100 bytes of SQLite's header, that destroys the schema.
void overwrite_with_garbage(const std::string& path, std::size_t offset, std::size_t size) {
  std::optional<std::string> bytes = read_file_bytes(path);
  REQUIRE(bytes);
  REQUIRE(bytes->size() >= offset + size);
  bytes->replace(offset, size, garbage_bytes(size));
  write_file_bytes(path, *bytes);
}

}  // namespace

TEST_CASE("files: a file that is not a database is refused and left untouched", "[store]") {
  TempDir dir;
  const std::string path = dir.file("garbage.db");
  write_file_bytes(path, "not a database at all\n" + garbage_bytes(4096));
  expect_refused(dir, path, {"not a database"});
}

TEST_CASE("files: a uvchat database with a damaged schema page is refused and left untouched", "[store]") {
  constexpr std::size_t kSqliteHeaderSize = 100;
  constexpr std::size_t kDamagedBytes = 1000;
  RestartableServer store;
  register_and_exit(store.server(), "alice");
  store.stop(SIGTERM);
  overwrite_with_garbage(store.db_path(), kSqliteHeaderSize, kDamagedBytes);
  expect_refused(store.dir(), store.db_path(), {});
}

TEST_CASE("files: another application's database is refused and left untouched", "[store]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> others = {
      {"notes.db",
       "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) "
       "VALUES('keep me');"},
      {"notes-wal.db",
       "PRAGMA journal_mode = WAL; CREATE TABLE notes(body TEXT); INSERT INTO notes "
       "VALUES('keep me');"},
      {"empty-other-app.db", "PRAGMA application_id = 42;"},
  };
  for (const auto& [name, sql] : others) {
    CAPTURE(name);
    const std::optional<std::string> path = make_database(dir, name, sql);
    if (!path) return;
    expect_refused(dir, *path, {"not a uvchat database"});
  }
}

TEST_CASE("files: a database from a newer uvchat is refused and left untouched", "[store]") {
  TempDir dir;
  const std::optional<std::string> path =
      make_database(dir, "newer.db",
                    "PRAGMA application_id = " + std::to_string(kUvchatApplicationId) +
                        "; PRAGMA user_version = 99; CREATE TABLE future(x);");
  if (!path) return;
  expect_refused(dir, *path, {"newer uvchat"});
}

TEST_CASE("files: a path in a missing directory is refused and nothing is created", "[store]") {
  TempDir dir;
  const std::string path = dir.file("missing/uvchat.db");
  expect_refused(dir, path, {});
  CHECK(!std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("files: a new path is created as a uvchat database in WAL mode", "[store]") {
  RestartableServer store;
  register_and_exit(store.server(), "alice");
  CHECK(std::filesystem::exists(store.db_path()));
  store.stop(SIGTERM);

  const std::optional<std::string> pragmas =
      sqlite3_output(store.db_path(), "PRAGMA application_id; PRAGMA user_version; PRAGMA journal_mode;");
  if (!pragmas) {
    WARN("the sqlite3 shell is not installed: the new file's pragmas were not read");
    return;
  }
  CHECK(*pragmas == std::to_string(kUvchatApplicationId) + "\n6\nwal\n");  // schema version 6
  CHECK(sqlite3_output(store.db_path(), "SELECT name FROM users;") == "alice\n");
}

TEST_CASE("files: --db :memory: works and leaves no file", "[store]") {
  TestServer server({.args = {}, .db = ":memory:"});
  register_and_exit(server, "bob");
  RegisteredClient alice(server, "alice");
  alice.send_line("bob: hi");
  alice.expect("server:queued bob");
  CHECK(!std::filesystem::exists(":memory:"));
}

// A DM sent live is held by the store until the client has it, then stored
// delivered in direct_chunks; one held past 2 s (a slow machine) is stored
// queued in messages and marked delivered after. Either way, every DM a
// client read is delivered in the file, once.
TEST_CASE("files: live DMs a client read are stored as delivered", "[store]") {
  RestartableServer store;
  constexpr int kBurst = 3000;
  {
    RegisteredClient alice(store.server(), "alice");
    RegisteredClient bob(store.server(), "bob");
    alice.expect("server:online bob");
    alice.send(numbered_dm_lines("bob", kBurst));
    for (int i = 1; i <= kBurst; ++i) bob.expect_chat("alice: " + numbered_text(i));
    bob.send_line("server:exit");
    bob.expect("server:bye");
    bob.expect_closed();
  }
  store.stop(SIGTERM);
  const std::optional<std::string> counts =
      sqlite3_output(store.db_path(),
                     "SELECT count(*), count(delivered_at), count(DISTINCT id), count(DISTINCT text)"
                     " FROM all_messages WHERE kind = 'dm';");
  if (!counts) {
    WARN("the sqlite3 shell is not installed: the file was not read");
    return;
  }
  const std::string burst = std::to_string(kBurst);
  CHECK(*counts == burst + "|" + burst + "|" + burst + "|" + burst + "\n");
  // Most, normally all, went the cheap way.
  const std::optional<std::string> chunked =
      sqlite3_output(store.db_path(), "SELECT coalesce(sum(messages), 0) > 0 FROM direct_chunks;");
  CHECK(chunked == "1\n");
}
