// Issue 18: real IRC clients against the real uvchatd. irssi runs inside a
// detached tmux session on a socket of the test's own (a full-screen
// program needs a real terminal emulator: tests/integration/screen.hpp has
// no scroll regions); the test types into it with `send-keys`, reads its
// screen with `capture-pane`, and reads what it logged (autolog) for the
// windows that are not on the screen. WeeChat runs headless with its logger.
//
// The clients are Debian packages (scripts/install-deps.sh). Without them
// a test says so and passes, unless CI is set: CI must run them.
#include <fcntl.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "harness_doors.hpp"

using namespace uvchat::test;

namespace {

// Real clients take their time to start and to register.
constexpr Duration kClientTimeout{10'000};
constexpr Duration kPoll{50};

bool on_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && *ci != '\0' && std::string_view(ci) != "false" && std::string_view(ci) != "0";
}

// The path of `program`, or nothing when the test should pass without it:
// fails on CI.
std::optional<std::string> required_program(std::string_view program) {
  std::optional<std::string> path = find_program(program);
  if (!path) {
    if (on_ci()) FAIL(program << " is not installed, and CI must run this test (scripts/install-deps.sh)");
    WARN("skipped: " << program << " is not installed (scripts/install-deps.sh installs it)");
  }
  return path;
}

// True once `holds` is true, polling every kPoll until `timeout`.
bool poll_until(const std::function<bool()>& holds, Duration timeout = kClientTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (holds()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
}

// Every file under `dir`, its path and bytes, for the logs of a client.
std::string files_under(const std::string& dir) {
  std::string text;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, error)) {
    if (!entry.is_regular_file()) continue;
    text += "== " + entry.path().string() + "\n" + read_file_bytes(entry.path().string()).value_or("") + "\n";
  }
  return text;
}

// The connection id the server gave the last connection it logged after
// `from` bytes of its log: "connection N from 127.0.0.1:PORT".
std::optional<std::string> last_connection_id(const std::string& log, std::size_t from) {
  static const std::regex kFrom(R"(connection (\d+) from )");
  std::optional<std::string> id;
  const std::string tail = log.substr(std::min(from, log.size()));
  for (auto it = std::sregex_iterator(tail.begin(), tail.end(), kFrom); it != std::sregex_iterator(); ++it) {
    id = (*it)[1];
  }
  return id;
}

// A detached tmux server and session of the test's own, on a socket in a
// temporary directory; killed, with what runs in it, when the test ends.
class TmuxSession {
 public:
  TmuxSession(std::string tmux, const TempDir& dir, const std::string& command)
      : tmux_(std::move(tmux)), socket_(dir.file("tmux.sock")) {
    const RunResult run = run_command({tmux_, "-S", socket_, "-f", "/dev/null", "new-session", "-d", "-s",
                                       "t", "-x", "160", "-y", "48", command});
    INFO("tmux new-session: " << run.err);
    REQUIRE(run.status.describe() == "exited with 0");
  }
  TmuxSession(const TmuxSession&) = delete;
  TmuxSession& operator=(const TmuxSession&) = delete;
  ~TmuxSession() {
    // kill-server sends SIGHUP to what runs in the panes.
    std::vector<std::string> argv = {tmux_, "-S", socket_, "kill-server"};
    try {
      run_command(argv);
    } catch (...) {
    }
  }

  // Types `text` literally, then Enter.
  void type_line(const std::string& text) const {
    tmux({"send-keys", "-t", "t", "-l", text});
    tmux({"send-keys", "-t", "t", "Enter"});
  }
  // What the pane shows now; empty once the session is gone.
  std::string screen() const {
    return run_command({tmux_, "-S", socket_, "capture-pane", "-p", "-t", "t"}).out;
  }
  // True while the session (and the program in it) is there.
  bool alive() const {
    return run_command({tmux_, "-S", socket_, "has-session", "-t", "t"}).status.describe() == "exited with 0";
  }
  void wait_for_screen(std::string_view needle, std::string_view what) const {
    if (!poll_until([&] { return screen().find(needle) != std::string::npos; })) {
      FAIL("waiting " << kClientTimeout.count() << " ms for " << what << " ('" << needle
                      << "') on the screen; it shows:\n"
                      << screen());
    }
  }

 private:
  void tmux(std::vector<std::string> args) const {
    std::vector<std::string> argv = {tmux_, "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult run = run_command(argv);
    INFO("tmux " << args.front() << ": " << run.err);
    REQUIRE(run.status.describe() == "exited with 0");
  }

  std::string tmux_;
  std::string socket_;
};

// `text` with every `{key}` replaced by its value.
std::string filled(std::string text, const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [key, value] : values) {
    const std::string mark = "{" + key + "}";
    for (std::size_t at = text.find(mark); at != std::string::npos; at = text.find(mark, at + value.size())) {
      text.replace(at, mark.size(), value);
    }
  }
  return text;
}

// An irssi home: a config with one server, autoconnect, the nick, and
// autolog of every window into `logs/`. irssi holds back commands that
// follow a burst (2.2 s each by default): the test would wait for it, so
// the queue is made fast.
void write_irssi_config(const TempDir& home, int port, const std::string& nick) {
  constexpr std::string_view kConfig = R"(servers = (
  { address = "127.0.0.1"; chatnet = "uvt"; port = "{port}"; use_tls = "no"; autoconnect = "yes"; }
);
chatnets = { uvt = { type = "IRC"; }; };
settings = {
  core = { real_name = "irssi tester"; user_name = "{nick}"; nick = "{nick}"; };
  "irc/core" = { cmd_queue_speed = "1msec"; cmds_max_at_once = "100"; };
  "fe-common/core" = { autolog = "yes"; autolog_path = "{logs}/$tag/$0.log"; };
};
)";
  write_file_bytes(home.file("config"),
                   filled(std::string(kConfig),
                          {{"port", std::to_string(port)}, {"nick", nick}, {"logs", home.file("logs")}}));
}

}  // namespace

TEST_CASE("irssi: connects, joins a room, talks with an nc user both ways, gets its queue and quits",
          "[irssi]") {
  const std::optional<std::string> irssi = required_program("irssi");
  const std::optional<std::string> tmux = required_program("tmux");
  if (!irssi || !tmux) return;

  TestServer server({.args = {"--utc"}});
  // The nick is known (registered once, from IRC), so DMs to it are kept.
  {
    IrcClient first(server, "irssi");
    first.register_irc();
    first.quit();
  }
  NcClient nc(server);
  nc.register_as("ncuser");
  nc.send_line("irssi: kept while you were away");
  nc.expect("server:queued irssi");

  TempDir home;
  write_irssi_config(home, server.port(), "irssi");
  const std::size_t log_before = server.log().size();
  TmuxSession session(*tmux, home, *irssi + " --home=" + home.path());

  // Registered: presence says so to the nc user, and server:who lists it.
  wait_for_line(
      nc, [](std::string_view line) { return line == "server:online irssi"; }, "server:online irssi",
      kClientTimeout);
  nc.send_line("server:who");
  wait_for_line(
      nc, [](std::string_view line) { return line == "server:users irssi ncuser"; },
      "server:users irssi ncuser");
  const std::optional<std::string> irssi_id = last_connection_id(server.log(), log_before);
  INFO("the server's log:\n" << server.log());
  REQUIRE(irssi_id);

  // Its offline queue reaches it, in the window of a query with ncuser.
  if (!poll_until([&] {
        return files_under(home.file("logs")).find("kept while you were away") != std::string::npos;
      })) {
    FAIL("the queued DM is not in irssi's logs; they hold:\n"
         << files_under(home.file("logs")) << "the screen:\n"
         << session.screen());
  }

  // A room, both ways.
  nc.send_line("server:join #team");
  nc.expect("server:joined #team ncuser");
  nc.expect("server:members #team ncuser");
  session.type_line("/join #team");
  wait_for_line(
      nc, [](std::string_view line) { return line == "server:joined #team irssi"; },
      "server:joined #team irssi", kClientTimeout);
  nc.send_line("#team: hello irssi from nc");
  session.wait_for_screen("hello irssi from nc", "the nc user's room line");
  session.type_line("hello nc from irssi");
  expect_native_chat(nc, "#team irssi: hello nc from irssi", kClientTimeout);
  session.type_line("/msg #team said with /msg");
  expect_native_chat(nc, "#team irssi: said with /msg", kClientTimeout);
  session.type_line("/msg ncuser a direct one");
  expect_native_chat(nc, "irssi: a direct one", kClientTimeout);

  // Quits cleanly: the nc user hears it go, the server closes the
  // connection, and irssi ends.
  session.type_line("/quit bye");
  wait_for_line(
      nc, [](std::string_view line) { return line == "server:offline irssi"; }, "server:offline irssi",
      kClientTimeout);
  CHECK(server.wait_for_log("connection " + *irssi_id + " closed", kClientTimeout));
  CHECK(poll_until([&] { return !session.alive(); }));
}

namespace {

// Writes `line` to the FIFO of WeeChat's fifo plugin at `path` once WeeChat
// has made it and reads it: `irc.t.#team *text` says text in #team.
bool write_to_fifo(const std::string& path, const std::string& line) {
  bool written = false;
  poll_until([&] {
    const int fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return false;  // not made yet, or nobody reads it yet
    UniqueFd fifo(fd);
    written = write_all_within(fifo.get(), line + "\n", kClientTimeout);
    return true;
  });
  return written;
}

}  // namespace

TEST_CASE("weechat: connects, joins a room and talks with an nc user both ways", "[irssi]") {
  const std::optional<std::string> weechat = required_program("weechat-headless");
  if (!weechat) return;

  TestServer server({.args = {"--utc"}});
  NcClient nc(server);
  nc.register_as("ncuser");
  nc.send_line("server:join #team");
  nc.expect("server:joined #team ncuser");
  nc.expect("server:members #team ncuser");

  TempDir dir;
  const std::string fifo = dir.file("wee.fifo");
  const std::string commands =
      "/set logger.file.flush_delay 0; /set fifo.file.path " + fifo + "; /server add t 127.0.0.1/" +
      std::to_string(server.port()) +
      " -notls; /set irc.server.t.nicks wee; /set irc.server.t.autojoin #team; /connect t";
  ChildProcess client({*weechat, "--dir", dir.path(), "--no-script", "-P", "irc,logger,fifo", "-r", commands},
                      {"TZ=UTC"}, ChildProcess::Stdout::kDrain);

  wait_for_line(
      nc, [](std::string_view line) { return line == "server:joined #team wee"; }, "server:joined #team wee",
      kClientTimeout);
  nc.send_line("#team: hello weechat from nc");
  if (!poll_until(
          [&] { return files_under(dir.file("logs")).find("hello weechat from nc") != std::string::npos; })) {
    FAIL("the nc user's room line is not in WeeChat's logs; they hold:\n" << files_under(dir.file("logs")));
  }
  REQUIRE(write_to_fifo(fifo, "irc.t.#team *hello nc from weechat"));
  expect_native_chat(nc, "#team wee: hello nc from weechat", kClientTimeout);

  REQUIRE(write_to_fifo(fifo, "core.weechat */quit"));
  wait_for_line(
      nc, [](std::string_view line) { return line == "server:offline wee"; }, "server:offline wee",
      kClientTimeout);
  CHECK(client.try_wait_exit(kClientTimeout));
}
