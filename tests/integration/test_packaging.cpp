// Packaging: the systemd unit passes `systemd-analyze verify`, the man pages
// list every option and format without warnings, and (with $UVCHAT_DEB) the
// .deb holds exactly its files and the uvchatd in it serves.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "harness.hpp"
#include "tree_paths.h"

using namespace uvchat::test;

namespace {

std::string source_file(const std::string& relative) {
  const std::optional<std::string> bytes = read_file_bytes(std::string(UVCHAT_SOURCE_ROOT) + "/" + relative);
  REQUIRE(bytes);
  return *bytes;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The unit of the tree with ExecStart on the uvchatd under test, as
// systemd-analyze checks that the program exists.
std::string unit_for_test() {
  return replaced(source_file("scripts/uvchatd.service"), "ExecStart=/usr/sbin/uvchatd\n",
                  "ExecStart=" + uvchatd_path() + "\n");
}

// `systemd-analyze verify` of `unit` saved as uvchatd.service. It runs
// man(1) for Documentation=man:uvchatd(8), so MANPATH holds the page built.
RunResult verify_unit(const TempDir& dir, const std::string& unit) {
  const std::string man8 = dir.path() + "/man/man8";
  REQUIRE(run_command({"/bin/mkdir", "-p", man8}).status.describe() == "exited with 0");
  const std::optional<std::string> page = read_file_bytes(std::string(UVCHAT_BUILD_ROOT) + "/docs/man/uvchatd.8");
  REQUIRE(page);
  write_file_bytes(man8 + "/uvchatd.8", *page);
  write_file_bytes(dir.file("uvchatd.service"), unit);
  return run_command_with_input({*find_program("systemd-analyze"), "verify", dir.file("uvchatd.service")}, "",
                                {"MANPATH=" + dir.path() + "/man"}, Duration(30000));
}

// The long options that `--help` prints, e.g. "--max-line".
std::set<std::string> long_options_in(const std::string& text, const std::string& pattern) {
  const std::regex option(pattern);
  std::set<std::string> found;
  for (std::sregex_iterator it(text.begin(), text.end(), option), end; it != end; ++it) found.insert((*it)[1]);
  return found;
}

// Every option of `help` is in the man page's source, and every option the
// page describes (a line `*--name*`) is in `help`.
void check_man_page_options(const std::string& help, const std::string& page, std::size_t at_least) {
  const std::set<std::string> in_help = long_options_in(help, R"((--[a-z][a-z-]*[a-z]))");
  CHECK(in_help.size() >= at_least);
  for (const std::string& option : in_help) {
    CAPTURE(option);
    CHECK(page.find("*" + option + "*") != std::string::npos);
  }
  const std::set<std::string> described = long_options_in(page, R"((?:^|\n)(?:\*-h\*, )?\*(--[a-z][a-z-]*)\*)");
  CHECK(described.size() >= at_least);
  for (const std::string& option : described) {
    CAPTURE(option);
    CHECK(in_help.count(option) == 1);
  }
}

void check_groff_quiet(const std::string& page) {
  const std::optional<std::string> groff = find_program("groff");
  if (!groff) {
    WARN("groff is not installed: " << page << " not checked for warnings");
    return;
  }
  const std::string path = std::string(UVCHAT_BUILD_ROOT) + "/docs/man/" + page;
  REQUIRE(read_file_bytes(path));
  const RunResult run = run_command({*groff, "-ww", "-z", "-man", path});
  CHECK(run.status.describe() == "exited with 0");
  CHECK(run.err.empty());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// The files (not directories) `dpkg-deb --contents` lists, as "./path"
// with their owner.
std::vector<std::string> deb_files(const std::string& deb) {
  const RunResult run = run_command({*find_program("dpkg-deb"), "--contents", deb});
  REQUIRE(run.status.describe() == "exited with 0");
  std::vector<std::string> files;
  for (const std::string& line : lines_of(run.out)) {
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, path;
    fields >> mode >> owner >> size >> date >> time >> path;
    if (mode.front() != 'd') files.push_back(owner + " " + path);
  }
  return files;
}

int listening_port(const ChildProcess& server) {
  const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
  std::smatch match;
  const auto has_port = [&](const std::string& log) { return std::regex_search(log, match, listening); };
  REQUIRE(server.err().wait_until(has_port, kStartTimeout));
  const std::string log = server.err().text();
  REQUIRE(std::regex_search(log, match, listening));
  return std::stoi(match[1]);
}

}  // namespace

TEST_CASE("packaging: systemd-analyze verify passes on the unit, and fails on a broken one", "[packaging]") {
  if (!find_program("systemd-analyze")) {
    WARN("systemd-analyze is not installed: scripts/uvchatd.service not verified");
    return;
  }
  TempDir dir;
  const RunResult good = verify_unit(dir, unit_for_test());
  INFO("stderr: " << good.err);
  CHECK(good.status.describe() == "exited with 0");
  // Unknown keys and bad values are only warnings, with status 0.
  CHECK(good.err.empty());

  const RunResult missing = verify_unit(dir, replaced(unit_for_test(), "ExecStart=" + uvchatd_path(),
                                                      "ExecStart=" + dir.file("no-such-uvchatd")));
  CHECK(missing.status.describe() != "exited with 0");
  CHECK(missing.err.find("no-such-uvchatd is not executable") != std::string::npos);

  const RunResult misspelt = verify_unit(dir, replaced(unit_for_test(), "ProtectHome=yes", "ProtectHomes=yes"));
  CHECK(misspelt.err.find("Unknown key 'ProtectHomes'") != std::string::npos);
}

TEST_CASE("packaging: the unit runs uvchatd sandboxed, with its state in /var/lib/uvchat", "[packaging]") {
  const std::string unit = source_file("scripts/uvchatd.service");
  for (const char* setting :
       {"Type=notify\n", "ExecReload=/bin/kill -HUP $MAINPID\n", "Restart=on-failure\n", "DynamicUser=yes\n",
        "StateDirectory=uvchat\n", "WorkingDirectory=/var/lib/uvchat\n", "ProtectSystem=strict\n",
        "NoNewPrivileges=yes\n", "CapabilityBoundingSet=\n", "Documentation=man:uvchatd(8)\n"}) {
    CAPTURE(setting);
    CHECK(unit.find(setting) != std::string::npos);
  }
  if (!find_program("systemd-analyze")) {
    WARN("systemd-analyze is not installed: the unit's exposure not measured");
    return;
  }
  TempDir dir;
  write_file_bytes(dir.file("uvchatd.service"), unit_for_test());
  const RunResult run = run_command(
      {*find_program("systemd-analyze"), "security", "--offline=yes", "--no-pager", dir.file("uvchatd.service")},
      Duration(30000));
  INFO(run.out << run.err);
  // "→ Overall exposure level for uvchatd.service: 1.2 OK"; 0 is best, 10
  // worst. A unit with the sandboxing above scores under 2.
  std::smatch score;
  REQUIRE(std::regex_search(run.out, score, std::regex(R"(Overall exposure level for \S+: (\d+\.\d))")));
  CHECK(std::stod(score[1]) < 2.0);
}

TEST_CASE("packaging: uvchatd(8) describes every option of uvchatd --help, and no other", "[packaging]") {
  const RunResult help = run_uvchatd({"--help"});
  REQUIRE(help.status.describe() == "exited with 0");
  check_man_page_options(help.out, source_file("docs/man/uvchatd.8.scd"), 20);
}

TEST_CASE("packaging: uvchat(1) describes every option of uvchat --help, and no other", "[packaging]") {
  const RunResult help = run_command({uvchat_path(), "--help"});
  REQUIRE(help.status.describe() == "exited with 0");
  check_man_page_options(help.out, source_file("docs/man/uvchat.1.scd"), 7);
}

TEST_CASE("packaging: groff finds nothing to warn about in the man pages", "[packaging]") {
  check_groff_quiet("uvchatd.8");
  check_groff_quiet("uvchat.1");
}

TEST_CASE("packaging: the .deb holds its files, and the uvchatd in it serves", "[packaging][deb]") {
  const char* deb = std::getenv("UVCHAT_DEB");
  if (deb == nullptr || *deb == '\0') {
    WARN("UVCHAT_DEB is not set (make deb; .ci/run sets it): the .deb not checked");
    return;
  }
  CHECK(deb_files(deb) == std::vector<std::string>{
                              "root/root ./etc/uvchat/uvchatd.toml",
                              "root/root ./lib/systemd/system/uvchatd.service",
                              "root/root ./usr/bin/uvchat",
                              "root/root ./usr/sbin/uvchatd",
                              "root/root ./usr/share/doc/uvchat/changelog.Debian.gz",
                              "root/root ./usr/share/doc/uvchat/copyright",
                              "root/root ./usr/share/lintian/overrides/uvchat",
                              "root/root ./usr/share/man/man1/uvchat.1.gz",
                              "root/root ./usr/share/man/man8/uvchatd.8.gz",
                          });
  const RunResult depends = run_command({*find_program("dpkg-deb"), "--field", deb, "Depends"});
  // procps: the unit's ExecReload runs /bin/kill, which minimal systems lack.
  for (const char* library : {"libuv1", "libsqlite3-0", "libsodium23", "libstdc++6", "libc6", "procps"}) {
    CAPTURE(library);
    CHECK(depends.out.find(library) != std::string::npos);
  }

  TempDir root;
  REQUIRE(run_command({*find_program("dpkg-deb"), "-x", deb, root.path()}).status.describe() == "exited with 0");
  const std::optional<std::string> unit = read_file_bytes(root.file("lib/systemd/system/uvchatd.service"));
  REQUIRE(unit);
  CHECK(unit->find("\nExecStart=/usr/sbin/uvchatd\n") != std::string::npos);

  // --config names the packaged example: every key in it is commented out.
  ChildProcess server({root.file("usr/sbin/uvchatd"), "--config", root.file("etc/uvchat/uvchatd.toml"), "--host",
                       "127.0.0.1", "--port", "0", "--db", root.file("uvchat.db")},
                      {"TZ=UTC"}, ChildProcess::Stdout::kDrain);
  const int port = listening_port(server);
  TestClient alice("127.0.0.1", port, "alice");
  alice.register_as("alice");
  TestClient bob("127.0.0.1", port, "bob");
  bob.register_as("bob");
  alice.send_line("bob: hello from the package");
  bob.expect_chat("alice: hello from the package");
  server.signal(SIGTERM);
  CHECK(server.wait_exit(kExitTimeout).describe() == "exited with 0");
  CHECK(read_file_bytes(root.file("uvchat.db")));
}
