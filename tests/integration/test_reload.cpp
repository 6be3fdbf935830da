// SIGHUP: the config file read again, the log file opened again; and the
// service manager's notifications ($NOTIFY_SOCKET, sd_notify(3)).
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <ctime>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

// A datagram socket of our own in place of the service manager's. `name`
// is a path, or with a leading '@' a name in the abstract namespace.
class NotifySocket {
 public:
  explicit NotifySocket(std::string name) : name_(std::move(name)) {
    fd_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd_.get() >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    REQUIRE(name_.size() < sizeof address.sun_path);
    std::memcpy(address.sun_path, name_.data(), name_.size());
    if (name_[0] == '@') address.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name_.size());
    REQUIRE(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length) == 0);
  }

  std::string environment() const { return "NOTIFY_SOCKET=" + name_; }

  // The next notification, or nothing within `timeout`.
  std::optional<std::string> receive(Duration timeout = kLineTimeout) {
    pollfd ready{fd_.get(), POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const ssize_t length = ::recv(fd_.get(), buffer, sizeof buffer, 0);
    if (length < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(length));
  }

  // The next notification, which must match `pattern` (ECMAScript) as a whole.
  std::smatch expect(const std::string& pattern) {
    received_.push_back(receive().value_or("(nothing)"));
    std::smatch match;
    INFO("notifications so far: " << joined());
    REQUIRE(std::regex_match(received_.back(), match, std::regex(pattern)));
    return match;
  }

 private:
  std::string joined() const {
    std::string text;
    for (const std::string& one : received_) text += "[" + one + "] ";
    return text;
  }

  std::string name_;
  UniqueFd fd_;
  std::vector<std::string> received_;
};

constexpr const char* kReady = R"(READY=1\nSTATUS=listening on 127\.0\.0\.1:(\d+))";
constexpr const char* kReloading = R"(RELOADING=1\nMONOTONIC_USEC=(\d+))";

// A uvchatd on loopback whose only config is `config_path` and `args`,
// with our notify socket; ready once it said READY=1.
class NotifiedServer {
 public:
  NotifiedServer(NotifySocket& notify, const std::string& config_path,
                 const std::vector<std::string>& args = {})
      : notify_(notify),
        process_(command_line(config_path, args), {notify.environment(), "TZ=UTC"},
                 ChildProcess::Stdout::kDrain) {
    port_ = std::stoi(notify_.expect(kReady)[1].str());
  }

  int port() const { return port_; }
  const ChildProcess& process() const { return process_; }
  std::string log() const { return process_.err().text(); }

  // SIGHUP, and the notifications of a reload around it.
  void reload() {
    process_.signal(SIGHUP);
    notify_.expect(kReloading);
    notify_.expect(kReady);
  }

  void stop() {
    process_.signal(SIGTERM);
    notify_.expect("STOPPING=1");
    CHECK(process_.wait_exit(kExitTimeout).describe() == "exited with 0");
  }

 private:
  static std::vector<std::string> command_line(const std::string& config_path,
                                               const std::vector<std::string>& args) {
    std::vector<std::string> argv = {uvchatd_path(), "--config", config_path, "--host",  "127.0.0.1",
                                     "--port",       "0",        "--db",      ":memory:"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  NotifySocket& notify_;
  ChildProcess process_;
  int port_ = 0;
};

// A client of a server on 127.0.0.1 that has registered as `name`.
class LoopbackUser : public TestClient {
 public:
  LoopbackUser(int port, const std::string& name) : TestClient("127.0.0.1", port, name) { register_as(name); }
};

std::string unique_abstract_name() {
  static int counter = 0;
  return "@uvchat-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

long long monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<long long>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

bool contains(const std::string& text, std::string_view needle) {
  return text.find(needle) != std::string::npos;
}

// True once the file at `path` holds `needle`, waiting at most `timeout`.
bool wait_for_file_text(const std::string& path, std::string_view needle, Duration timeout = kLineTimeout) {
  const Stopwatch watch;
  while (true) {
    if (contains(read_file_bytes(path).value_or(""), needle)) return true;
    if (watch.elapsed() >= timeout) return false;
    std::this_thread::sleep_for(Duration(10));
  }
}

// A server started from `config`, holding `history = 1`, and alice with
// three messages in #team: one, two, three.
struct TeamWithHistory {
  static std::string written(const std::string& config) {
    write_file_bytes(config, "history = 1\n");
    return config;
  }
  explicit TeamWithHistory(const std::string& config_path)
      : config(written(config_path)), server({.args = {"--config", config}}), alice(server, "alice") {
    join_room(alice, "alice", "#team", "alice");
    alice.send("#team: one\n#team: two\n#team: three\n");
    alice.expect_quiet();
  }

  std::string config;
  TestServer server;
  RegisteredClient alice;
};

// `name` joins #team and gets the last `replayed` of alice's one, two, three.
void join_and_expect_history(const TestServer& server, const std::string& name, int replayed) {
  RegisteredClient user(server, name);
  user.send_line("server:join #team");
  user.expect("server:joined #team " + name);
  user.expect_match("server:members #team .*");
  user.expect("server:history #team " + std::to_string(replayed));
  const std::vector<std::string> texts = {"one", "two", "three"};
  for (std::size_t i = texts.size() - static_cast<std::size_t>(replayed); i < texts.size(); ++i)
    user.expect_replayed("#team alice: " + texts[i]);
  user.expect_quiet();
}

}  // namespace

TEST_CASE("reload: READY once listening, RELOADING and READY around SIGHUP, STOPPING at the end",
          "[reload]") {
  TempDir dir;
  NotifySocket notify(dir.file("notify"));
  write_file_bytes(dir.file("uvchatd.toml"), "history = 5\n");
  NotifiedServer server(notify, dir.file("uvchatd.toml"));
  LoopbackUser alice(server.port(), "alice");

  const long long before = monotonic_usec();
  server.process().signal(SIGHUP);
  const long long reloading_at = std::stoll(notify.expect(kReloading)[1].str());
  CHECK(reloading_at >= before);
  CHECK(reloading_at <= monotonic_usec());
  CHECK(std::stoi(notify.expect(kReady)[1].str()) == server.port());
  alice.expect_quiet();

  server.stop();
  alice.expect("server:shutdown");
}

TEST_CASE("reload: NOTIFY_SOCKET may name a socket in the abstract namespace", "[reload]") {
  TempDir dir;
  NotifySocket notify(unique_abstract_name());
  write_file_bytes(dir.file("uvchatd.toml"), "");
  NotifiedServer server(notify, dir.file("uvchatd.toml"));
  LoopbackUser alice(server.port(), "alice");
  server.stop();
}

TEST_CASE("reload: SIGHUP applies a changed history, and warns of a key that needs a restart", "[reload]") {
  TempDir dir;
  TeamWithHistory team(dir.file("uvchatd.toml"));
  join_and_expect_history(team.server, "bob", 1);

  write_file_bytes(team.config, "history = 3\nmax-line = 100\n");
  team.server.stop(SIGHUP);
  CHECK(team.server.wait_for_log(
      "warn: reload: max-line changed, but a running server keeps it until it restarts\n"));
  CHECK(team.server.wait_for_log("info: configuration reloaded: changed history\n"));
  join_and_expect_history(team.server, "carol", 3);

  // max-line is still 4096: no line-too-long.
  RegisteredClient dave(team.server, "dave");
  dave.send_line("alice: " + std::string(200, 'x'));
  dave.expect_quiet();
}

TEST_CASE("reload: a file with an error is logged, and the server goes on as it was", "[reload]") {
  TempDir dir;
  TeamWithHistory team(dir.file("uvchatd.toml"));

  write_file_bytes(team.config, "history = 3\nmax-clients = -1\n");
  team.server.stop(SIGHUP);
  CHECK(team.server.wait_for_log("error: reload: " + team.config +
                                 ":2: max-clients must be a number from 0 to 10000000, not -1; "
                                 "the configuration stays as it was\n"));
  team.alice.expect_quiet();
  join_and_expect_history(team.server, "bob", 1);
  CHECK_FALSE(contains(team.server.log(), "configuration reloaded"));
}

// A server reading a config file of our own, which reload() rewrites.
struct ServerWithConfig {
  static std::string written(const std::string& path, const std::string& text) {
    write_file_bytes(path, text);
    return path;
  }
  explicit ServerWithConfig(const std::string& text)
      : config(written(dir.file("uvchatd.toml"), text)), server({.args = {"--config", config}}) {}

  // The file rewritten, SIGHUP, and the reload's line naming `changed`.
  void reload(const std::string& text, const std::string& changed) {
    write_file_bytes(config, text);
    server.stop(SIGHUP);
    CHECK(server.wait_for_log("configuration reloaded: changed " + changed + "\n"));
  }

  TempDir dir;
  std::string config;
  TestServer server;
};

TEST_CASE("reload: a lower or higher max-clients applies to the next connections", "[reload]") {
  ServerWithConfig configured("max-clients = 1\n");
  RegisteredClient alice(configured.server, "alice");
  TestClient refused(configured.server, "refused");
  refused.expect_match("server:error server-full( .+)?");
  refused.expect_closed();

  configured.reload("max-clients = 2\n", "max-clients");
  RegisteredClient bob(configured.server, "bob");
  alice.expect("server:online bob");
}

TEST_CASE("reload: a lower presence-limit applies to the next arrivals", "[reload]") {
  ServerWithConfig configured("");
  RegisteredClient alice(configured.server, "alice");
  RegisteredClient bob(configured.server, "bob");
  alice.expect("server:online bob");

  configured.reload("presence-limit = 2\n", "presence-limit");
  RegisteredClient carol(configured.server, "carol");
  alice.expect_quiet();
  bob.expect_quiet();
}

TEST_CASE("reload: log-level from the file changes what is logged", "[reload]") {
  TempDir dir;
  const std::string config = dir.file("uvchatd.toml");
  write_file_bytes(config, "log-level = \"info\"\n");
  NotifySocket notify(dir.file("notify"));
  NotifiedServer server(notify, config);
  LoopbackUser alice(server.port(), "alice");
  CHECK(server.process().err().wait_for("info: connection 1 from 127.0.0.1:", kLineTimeout));

  write_file_bytes(config, "log-level = \"warn\"\n");
  server.reload();
  LoopbackUser bob(server.port(), "bob");
  alice.expect("server:online bob");

  // An error is still logged; it comes after anything bob's connection logged.
  write_file_bytes(config, "log-level = \"chatty\"\n");
  server.reload();
  CHECK(server.process().err().wait_for("error: reload: " + config + ":1: log-level must be", kLineTimeout));
  CHECK_FALSE(contains(server.log(), "connection 2 from"));
  server.stop();
}

TEST_CASE("reload: SIGHUP opens the log file again after it was renamed", "[reload]") {
  TempDir dir;
  const std::string config = dir.file("uvchatd.toml");
  const std::string log_path = dir.file("uvchatd.log");
  write_file_bytes(config, "log-file = \"" + log_path + "\"\n");
  NotifySocket notify(dir.file("notify"));
  NotifiedServer server(notify, config);
  CHECK(wait_for_file_text(log_path, "info: listening on 127.0.0.1:" + std::to_string(server.port()) + "\n"));

  REQUIRE(::rename(log_path.c_str(), dir.file("uvchatd.log.1").c_str()) == 0);
  server.reload();
  CHECK(wait_for_file_text(log_path, "info: configuration reloaded: nothing changed\n"));
  LoopbackUser alice(server.port(), "alice");
  CHECK(wait_for_file_text(log_path, "info: connection 1 from 127.0.0.1:"));

  const std::string rotated = read_file_bytes(dir.file("uvchatd.log.1")).value_or("");
  CHECK(contains(rotated, "info: got SIGHUP\n"));
  CHECK_FALSE(contains(rotated, "connection 1 from"));
  server.stop();
  CHECK(wait_for_file_text(log_path, "info: stopped\n"));
  CHECK(server.log().empty());
}

TEST_CASE("reload: a --log-file that cannot be opened exits 1", "[reload]") {
  TempDir dir;
  const RunResult run = run_uvchatd({"--config", "none", "--port", "0", "--db", ":memory:", "--log-file",
                                     dir.file("no/such/dir/uvchatd.log")});
  CHECK(run.status.describe() == "exited with 1");
  CHECK(run.err == "uvchatd: cannot open log file " + dir.file("no/such/dir/uvchatd.log") +
                       ": No such file or directory\n");
}
