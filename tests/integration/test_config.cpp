// The config file (--config), --check-config, and the example file
// scripts/uvchatd.toml.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "tree_paths.h"

using namespace uvchat::test;

namespace {

// Options that say what to do rather than how to serve: no config key.
const std::set<std::string> kCommandLineOnly = {"config", "check-config", "make-cert", "version", "help"};

std::string example_path() { return std::string(UVCHAT_SOURCE_ROOT) + "/scripts/uvchatd.toml"; }

// Writes `text` to a file `name` in `dir` and returns its path.
std::string config_file(const TempDir& dir, const std::string& text,
                        const std::string& name = "uvchatd.toml") {
  const std::string path = dir.file(name);
  write_file_bytes(path, text);
  return path;
}

RunResult check_config(const std::string& path, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--config", path, "--check-config"};
  args.insert(args.end(), more.begin(), more.end());
  return run_uvchatd(args);
}

// The long names of the options `uvchatd --help` lists.
std::set<std::string> help_options() {
  const RunResult run = run_uvchatd({"--help"});
  REQUIRE(run.status.describe() == "exited with 0");
  static const std::regex kOption(R"((?:^|\n) +(?:-\w, )?--([a-z-]+))");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), kOption); it != std::sregex_iterator();
       ++it)
    names.insert((*it)[1].str());
  return names;
}

// The example with every `# key = value` line made a live one.
std::string uncommented_example(std::set<std::string>& keys) {
  const std::optional<std::string> example = read_file_bytes(example_path());
  REQUIRE(example);
  static const std::regex kKeyLine(R"(^# ([a-z-]+) = .*$)");
  std::istringstream lines(*example);
  std::string result;
  for (std::string line; std::getline(lines, line);) {
    std::smatch match;
    if (std::regex_match(line, match, kKeyLine)) {
      keys.insert(match[1].str());
      line = line.substr(2);
    }
    result += line + "\n";
  }
  return result;
}

struct BadFile {
  std::string text;
  // After "uvchatd: PATH:".
  std::string message;
};

}  // namespace

TEST_CASE("config: a bad key or value names the file, the line and the key, and exits 2", "[server-config]") {
  const std::vector<BadFile> cases = {
      {"port = 8080\n\n# a comment\nmax-line = 12\n",
       "4: max-line must be a number from 64 to 1048576, not 12"},
      {"max-lines = 100\n", "1: unknown key 'max-lines'"},
      {"port = 70000\n", "1: port must be a number from 0 to 65535, not 70000"},
      {"port = \"8080\"\n", "1: port must be a number from 0 to 65535, not \"8080\""},
      {"rate = 1.5\n", "1: rate must be a number from 0 to 1000000, not 1.5"},
      {"presence = \"loud\"\n", "1: presence must be all, rooms or off, not \"loud\""},
      {"log-level = 3\n", "1: log-level must be debug, info, warn or error, not 3"},
      {"utc = \"yes\"\n", "1: utc must be true or false, not \"yes\""},
      {"host = 127\n", "1: host must be a string in quotes, not 127"},
      {"max-outbuf = 100\n", "1: max-outbuf must be 0 or at least 4096, not 100"},
      {"config = \"other.toml\"\n", "1: 'config' is an option of the command line only"},
      {"history = 5\n[server]\nport = 1\n",
       "2: [server]: uvchatd takes no sections; every key goes at the top"},
  };
  TempDir dir;
  for (const BadFile& bad : cases) {
    CAPTURE(bad.text);
    const std::string path = config_file(dir, bad.text);
    const RunResult run = check_config(path);
    CHECK(run.status.describe() == "exited with 2");
    // toml++ quotes strings with either kind of quote.
    const std::string err = std::regex_replace(run.err, std::regex("'(\\w+)'"), "\"$1\"");
    const std::string expected = std::regex_replace(bad.message, std::regex("'(\\w+)'"), "\"$1\"");
    CHECK(err == "uvchatd: " + path + ":" + expected + "\n");
    CHECK(run.out.empty());
  }
}

TEST_CASE("config: a TOML syntax error names the file and the line", "[server-config]") {
  TempDir dir;
  const std::string path = config_file(dir, "port = 8080\nhistory =\n");
  const RunResult run = check_config(path);
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::StartsWith("uvchatd: " + path + ":2: "));
}

TEST_CASE("config: a file named with --config that cannot be read exits 2", "[server-config]") {
  TempDir dir;
  const RunResult run = check_config(dir.file("missing.toml"));
  CHECK(run.status.describe() == "exited with 2");
  CHECK(run.err.find("cannot read " + dir.file("missing.toml") + ": No such file or directory") !=
        std::string::npos);
}

TEST_CASE("config: --config none reads no file, and --help names the default file", "[server-config]") {
  const RunResult run = run_uvchatd({"--config", "none", "--check-config"});
  CHECK(run.status.describe() == "exited with 0");
  CHECK(run.out == "uvchatd: configuration OK\n");
  const RunResult help = run_uvchatd({"--help"});
  CHECK_THAT(help.out, Catch::Contains("uvchat/uvchatd.toml"));
}

TEST_CASE("config: --check-config neither opens the database nor listens", "[server-config]") {
  TestServer holder;
  TempDir dir;
  const std::string db = dir.file("never.db");
  const std::string path = config_file(
      dir, "host = \"127.0.0.1\"\nport = " + std::to_string(holder.port()) + "\ndb = \"" + db + "\"\n");
  const RunResult run = check_config(path);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(run.out == "uvchatd: configuration OK\n");
  CHECK(run.err.empty());
  CHECK_FALSE(read_file_bytes(db));
}

TEST_CASE("config: --check-config reports a bad command line too", "[server-config]") {
  const RunResult run = run_uvchatd({"--config", "none", "--check-config", "--history", "501"});
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::StartsWith("uvchatd: --history must be a number from 0 to 500, not '501'\n"));
}

TEST_CASE("config: the command line wins over the file", "[server-config]") {
  TempDir dir;
  const std::string path = config_file(dir, "max-line = 12\n");
  CHECK(check_config(path, {"--max-line", "100"}).status.describe() == "exited with 0");
  CHECK(check_config(path).status.describe() == "exited with 2");
}

TEST_CASE("config: the file's settings are served, under the command line's", "[server-config]") {
  TempDir dir;
  const std::string path = config_file(dir, "presence = \"off\"\nhistory = 1\nmax-queue = 1\n");
  TestServer server({.args = {"--config", path, "--history", "2"}});
  RegisteredClient alice(server, "alice");
  RegisteredClient bob(server, "bob");
  alice.expect_quiet();  // presence off: no server:online bob
  join_room(alice, "alice", "#team", "alice");
  alice.send("#team: one\n#team: two\n#team: three\n");
  alice.expect_quiet();
  bob.send_line("server:join #team");
  bob.expect_lines({"server:joined #team bob", "server:members #team alice bob"});
  bob.expect("server:history #team 2");  // --history 2 over the file's 1
  bob.expect_replayed("#team alice: two");
  bob.expect_replayed("#team alice: three");
  bob.expect_quiet();
}

TEST_CASE("config: the example file, every key uncommented, is accepted", "[server-config]") {
  std::set<std::string> keys;
  const std::string text = uncommented_example(keys);
  TempDir dir;
  const RunResult run = check_config(config_file(dir, text));
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  CHECK(run.out == "uvchatd: configuration OK\n");
  CHECK(keys.size() > 20);
}

TEST_CASE("config: every option of --help is a key of the example file", "[server-config]") {
  std::set<std::string> keys;
  uncommented_example(keys);
  const std::set<std::string> options = help_options();
  REQUIRE(options.size() > 20);
  for (const std::string& option : options) {
    if (kCommandLineOnly.contains(option)) continue;
    CAPTURE(option);
    CHECK(keys.contains(option));
  }
  for (const std::string& key : keys) {
    CAPTURE(key);
    CHECK(options.contains(key));
  }
}
