// docs/CLIENT.md: the real uvchat ($UVCHAT) at a pseudo-terminal, and in a
// pipe, against the real uvchatd. First the tools those tests stand on: the
// Screen (a tiny terminal) and the PtyProcess, tested with programs every
// system has.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "harness.hpp"
#include "pty.hpp"
#include "screen.hpp"

using namespace uvchat::test;

// ------------------------------------------------------------------ Screen

TEST_CASE("screen: text, CR and ESC [ K erase to the end of the line", "[screen]") {
  Screen screen;
  screen.feed("hello world\rHi\x1b[K");
  CHECK(screen.line(0) == "Hi");
  CHECK(screen.cursor_row() == 0);
  CHECK(screen.cursor_col() == 2);
  CHECK(screen.line(1).empty());
}

TEST_CASE("screen: LF goes down a row and keeps the column, CR LF starts a line", "[screen]") {
  Screen screen;
  screen.feed("ab\ncd");
  CHECK(screen.line(0) == "ab");
  CHECK(screen.line(1) == "  cd");
  screen.feed("\r\nef");
  CHECK(screen.line(2) == "ef");
  CHECK(screen.cursor_row() == 2);
  CHECK(screen.cursor_col() == 2);
}

TEST_CASE("screen: a line feed on the bottom row scrolls", "[screen]") {
  Screen screen(3, 10);
  screen.feed("1\r\n2\r\n3\r\n4");
  CHECK(screen.lines() == std::vector<std::string>{"2", "3", "4"});
  CHECK(screen.cursor_row() == 2);
  CHECK(screen.text() == "2\n3\n4");
}

TEST_CASE("screen: BS and ESC [ N C / D / G move the cursor", "[screen]") {
  Screen screen;
  screen.feed("abcdef\b\bX");
  CHECK(screen.line(0) == "abcdXf");
  CHECK(screen.cursor_col() == 5);
  screen.feed("\x1b[3DY");  // 5 - 3 = 2
  CHECK(screen.line(0) == "abYdXf");
  screen.feed("\x1b[C\x1b[2CZ");  // 3 + 1 + 2 = 6
  CHECK(screen.line(0) == "abYdXfZ");
  screen.feed("\x1b[10G!");  // columns count from 1
  CHECK(screen.line(0) == "abYdXfZ  !");
  screen.feed("\x1b[G");
  CHECK(screen.cursor_col() == 0);
  screen.feed("\x1b[99D\b");  // never past the left edge
  CHECK(screen.cursor_col() == 0);
}

TEST_CASE("screen: ESC [ 2 K blanks the whole line and leaves the cursor", "[screen]") {
  Screen screen;
  screen.feed("abc\x1b[2Kd");
  CHECK(screen.line(0) == "   d");
  CHECK(screen.cursor_col() == 4);
}

TEST_CASE("screen: colour, private modes and OSC strings show nothing", "[screen]") {
  Screen screen;
  screen.feed("\x1b[?2004h\x1b[1;31mred\x1b[0m \x1b[?25l\x1b]0;a title\x07ok\x1b[?25h");
  CHECK(screen.line(0) == "red ok");
  CHECK(screen.cursor_col() == 6);
}

TEST_CASE("screen: UTF-8 takes one cell a code point, even split across feeds", "[screen]") {
  Screen screen;
  screen.feed("h\xC3");
  screen.feed("\xA9llo \xE2\x86");
  screen.feed("\x92!");
  CHECK(screen.line(0) == "h\xC3\xA9llo \xE2\x86\x92!");
  CHECK(screen.cursor_col() == 8);
  screen.feed("\r\n\xFFx");  // not UTF-8: U+FFFD
  CHECK(screen.line(1) == "\xEF\xBF\xBDx");
}

TEST_CASE("screen: an escape sequence split across feeds", "[screen]") {
  Screen screen;
  screen.feed("abc\x1b");
  screen.feed("[");
  screen.feed("2");
  screen.feed("D");
  CHECK(screen.cursor_col() == 1);
  screen.feed("\x1b[K");
  CHECK(screen.line(0) == "a");
}

TEST_CASE("screen: writing past the last column wraps to the next row", "[screen]") {
  Screen screen(3, 5);
  screen.feed("abcdefg");
  CHECK(screen.line(0) == "abcde");
  CHECK(screen.line(1) == "fg");
  CHECK(screen.cursor_row() == 1);
  CHECK(screen.cursor_col() == 2);
  screen.feed("\r\nvwxyz\r");  // a full row, then CR: still on that row
  CHECK(screen.cursor_row() == 2);
  CHECK(screen.cursor_col() == 0);
}

TEST_CASE("screen: last_row_with finds the lowest row holding a text", "[screen]") {
  Screen screen;
  screen.feed("bob: hi\r\nalice: yo\r\nbob: again");
  CHECK(screen.last_row_with("bob:") == 2);
  CHECK(screen.last_row_with("alice") == 1);
  CHECK_FALSE(screen.last_row_with("carol"));
  CHECK(screen.contains("yo"));
  CHECK(screen.text().starts_with("bob: hi\nalice: yo\nbob: again\n\n"));
}

TEST_CASE("screen: a line printed above a half-typed prompt, as the client draws it", "[screen]") {
  // LineEditor::render(): CR, prompt, line, ESC [ K, CR, ESC [ N C.
  const std::string render = "\rbob> hel\x1b[K\r\x1b[8C";
  Screen screen;
  screen.feed(render);
  CHECK(screen.line(0) == "bob> hel");
  CHECK(screen.cursor_col() == 8);
  screen.feed("\r\x1b[K[12:00:03] bob: ping!\r\n" + render);
  CHECK(screen.lines()[0] == "[12:00:03] bob: ping!");
  CHECK(screen.lines()[1] == "bob> hel");
  CHECK(screen.cursor_row() == 1);
  CHECK(screen.cursor_col() == 8);
  CHECK(screen.describe().find(" 1>bob> hel\n") != std::string::npos);
}

// -------------------------------------------------------------- PtyProcess

namespace {

std::string shell() { return find_program("sh").value_or("/bin/sh"); }

}  // namespace

TEST_CASE("pty: what a program prints is on the screen, and its exit status", "[pty]") {
  PtyProcess program({shell(), "-c", "printf 'abc\\rX\\033[K'; exit 3"});
  program.wait_for_text("X");
  CHECK(program.wait_for_exit().describe() == "exited with 3");
  CHECK(program.screen().line(0) == "X");
  CHECK(program.output() == "abc\rX\x1b[K");
}

TEST_CASE("pty: the program has a terminal of the given size, TERM=xterm and NO_COLOR=1", "[pty]") {
  const std::string script =
      "stty size; echo \"$TERM/${NO_COLOR-unset}/$EXTRA\"; test -t 0 && test -t 1 && echo tty";
  SECTION("by default") {
    PtyProcess program({shell(), "-c", script}, {.rows = 10, .cols = 40, .env = {"EXTRA=yes"}});
    CHECK(program.wait_for_exit().describe() == "exited with 0");
    const Screen screen = program.screen();
    CHECK(screen.rows() == 10);
    CHECK(screen.lines()[0] == "10 40");
    CHECK(screen.lines()[1] == "xterm/1/yes");
    CHECK(screen.lines()[2] == "tty");
  }
  SECTION("with colour, and a TERM of the test's") {
    PtyProcess program({shell(), "-c", script}, {.env = {"TERM=dumb", "NO_COLOR="}, .no_color = false});
    program.wait_for_exit();
    CHECK(program.screen().lines()[1] == "dumb//");
  }
  SECTION("with NO_COLOR unset") {
    PtyProcess program({shell(), "-c", script}, {.no_color = false});
    program.wait_for_exit();
    CHECK(program.screen().lines()[1] == "xterm/unset/");
  }
}

TEST_CASE("pty: typed bytes reach the program, which echoes them; Ctrl-D ends cat", "[pty]") {
  PtyProcess cat({find_program("cat").value_or("/bin/cat")});
  cat.type("hello\r");
  // The terminal echoes the line, then cat writes it back.
  cat.wait_for([](const Screen& screen) { return screen.line(1) == "hello"; });
  CHECK(cat.screen().line(0) == "hello");
  CHECK(cat.screen().cursor_row() == 2);
  cat.type("\x04");
  CHECK(cat.wait_for_exit().describe() == "exited with 0");
}

TEST_CASE("pty: the terminal is the program's controlling terminal: Ctrl-C interrupts it", "[pty]") {
  PtyProcess cat({find_program("cat").value_or("/bin/cat")});
  cat.type("x\r");
  // The terminal's echo and then cat's own copy: cat is reading.
  cat.wait_for([](const Screen& screen) { return screen.line(1) == "x"; });
  cat.type("\x03");
  CHECK(cat.wait_for_exit().describe() == "killed by signal " + std::to_string(SIGINT));
}

TEST_CASE("pty: waits are bounded, and end early when the program ends", "[pty]") {
  SECTION("a text that never comes") {
    PtyProcess cat({find_program("cat").value_or("/bin/cat")});
    const Stopwatch watch;
    CHECK_FALSE(
        cat.try_wait_for([](const Screen& screen) { return screen.contains("never"); }, Duration(300)));
    CHECK(watch.elapsed() >= Duration(300));
    CHECK(watch.elapsed() < Duration(2000));
    CHECK_FALSE(cat.try_wait_for_exit(Duration(0)));
  }
  SECTION("a program that ends without showing it") {
    PtyProcess program({find_program("true").value_or("/bin/true")});
    const Stopwatch watch;
    CHECK_FALSE(
        program.try_wait_for([](const Screen& screen) { return screen.contains("never"); }, Duration(5000)));
    CHECK(watch.elapsed() < Duration(2000));
    CHECK(program.wait_for_exit().describe() == "exited with 0");
    CHECK(program.describe().find("the program exited with 0") != std::string::npos);
  }
}

TEST_CASE("pty: a program still running is killed and reaped when the test is done", "[pty]") {
  pid_t pid = -1;
  {
    PtyProcess sleeper({find_program("sleep").value_or("/bin/sleep"), "30"});
    pid = sleeper.pid();
    CHECK_FALSE(sleeper.try_wait_for_exit(Duration(50)));
  }
  // Reaped: it is no longer a child of ours.
  CHECK(::waitpid(pid, nullptr, WNOHANG) == -1);
  CHECK(errno == ECHILD);
}

// ------------------------------------------------------------------ uvchat

namespace {

// Reconnecting waits 0.5 to 1 s first; a restart takes some more.
constexpr Duration kReconnectTimeout{10000};

// An empty configuration directory of its own, so that a developer's
// ~/.config/uvchat/client.toml does not change what the client does.
class ClientHome {
 public:
  std::vector<std::string> env() const { return {"HOME=" + dir_.path(), "XDG_CONFIG_HOME=" + dir_.path()}; }

 private:
  TempDir dir_;
};

std::vector<std::string> client_command(int port, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {uvchat_path(), "--host", "127.0.0.1", "--port", std::to_string(port)};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// uvchat at a terminal of its own, 24x80, without colour.
struct TerminalClient {
  explicit TerminalClient(int port, const std::vector<std::string>& args = {})
      : pty(client_command(port, args), {.env = home.env()}) {}

  ClientHome home;
  PtyProcess pty;
};

std::string right_trimmed(std::string text) {
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

// The row the cursor is on: where the client's prompt and typing are.
std::string cursor_line(const Screen& screen) { return screen.line(screen.cursor_row()); }

// The client asks for a name: the cursor row ends with "name:".
bool asks_for_name(const Screen& screen) { return cursor_line(screen).ends_with("name:"); }

// The cursor row starts with `prompt` ("bob> "; the screen's rows are
// trimmed, so a prompt with nothing typed after it reads "bob>").
void wait_for_prompt(PtyProcess& client, const std::string& prompt) {
  client.wait_for(
      [&](const Screen& screen) { return cursor_line(screen).starts_with(right_trimmed(prompt)); },
      kLineTimeout, "the prompt '" + prompt + "' on the cursor's row");
}

// The cursor row is exactly `prompt` and `typed`, with the cursor right
// after them (ASCII: one column a byte).
bool prompt_reads(const Screen& screen, const std::string& prompt, const std::string& typed) {
  const std::string expected = prompt + typed;
  return cursor_line(screen) == right_trimmed(expected) &&
         screen.cursor_col() == static_cast<int>(expected.size());
}

void wait_for_exact_prompt(PtyProcess& client, const std::string& prompt, const std::string& typed = "") {
  client.wait_for([&](const Screen& screen) { return prompt_reads(screen, prompt, typed); }, kLineTimeout,
                  "the cursor's row to read exactly '" + prompt + typed + "' with the cursor at its end");
}

// "connected to 127.0.0.1:PORT as NAME", then the prompt with no target.
void wait_until_connected(PtyProcess& client, int port, const std::string& name) {
  client.wait_for_text("connected to 127.0.0.1:" + std::to_string(port) + " as " + name, kStartTimeout);
  wait_for_prompt(client, "(no target)> ");
}

// The lowest row holding `needle` matches `pattern` (ECMAScript) as a whole.
void expect_row_matching(PtyProcess& client, const std::string& needle, const std::string& pattern) {
  client.wait_for_text(needle);
  const Screen screen = client.screen();
  const std::string row = screen.line(screen.last_row_with(needle).value_or(-1));
  INFO("the row '" << row << "' should match /" << pattern << "/; " << client.describe());
  CHECK(std::regex_match(row, std::regex(pattern)));
}

// Reads lines until one for which `wanted` is true, within `timeout`, and
// skips the others (presence, history). False when none came or the
// connection closed; `skipped` gets the lines that were not it.
bool read_until(LinePeer& peer, const std::function<bool(const std::string&)>& wanted, Duration timeout,
                std::vector<std::string>& skipped) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<Duration>(deadline - std::chrono::steady_clock::now());
    const std::optional<std::string> line = peer.try_read_line(std::max(left, Duration(0)));
    if (!line) return false;
    if (wanted(*line)) return true;
    skipped.push_back(*line);
  }
}

}  // namespace

TEST_CASE("client: at a terminal it asks for a name, registers, and shows the prompt", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient alice(server.port());
  alice.pty.wait_for(asks_for_name, kStartTimeout, "the client to ask 'name: '");
  alice.pty.type("alice\r");
  wait_until_connected(alice.pty, server.port(), "alice");
  bob.expect("server:online alice");

  const Screen screen = alice.pty.screen();
  INFO(alice.pty.describe());
  CHECK(screen.last_row_with("connected to").value_or(screen.rows()) < screen.cursor_row());
  CHECK(prompt_reads(screen, "(no target)> ", ""));
}

TEST_CASE("client: a name that is taken is explained and the name asked again", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient client(server.port());
  client.pty.wait_for(asks_for_name, kStartTimeout, "the client to ask 'name: '");
  client.pty.type("bob\r");
  client.pty.wait_for(
      [](const Screen& screen) {
        const std::optional<int> taken = screen.last_row_with("taken");
        return taken && screen.cursor_row() >= *taken && asks_for_name(screen);
      },
      kLineTimeout, "a line saying the name is taken, then 'name: ' again");
  client.pty.type("bob2\r");
  wait_until_connected(client.pty, server.port(), "bob2");
  bob.expect("server:online bob2");
}

TEST_CASE("client: DMs both ways with a raw client", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient alice(server.port(), {"--name", "alice"});
  wait_until_connected(alice.pty, server.port(), "alice");
  bob.expect("server:online alice");

  alice.pty.type("/msg bob hi there\r");
  bob.expect_chat("alice: hi there");
  wait_for_prompt(alice.pty, "bob> ");

  bob.send_line("alice: hello");
  expect_row_matching(alice.pty, "bob: hello", R"(\[\d\d:\d\d:\d\d\] bob: hello)");
}

TEST_CASE("client: /join, then a room's messages both ways", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient alice(server.port(), {"--name", "alice"});
  wait_until_connected(alice.pty, server.port(), "alice");
  bob.expect("server:online alice");

  alice.pty.type("/join #team\r");
  alice.pty.wait_for_text("you joined #team");
  join_room(bob, "bob", "#team", "alice bob");
  alice.pty.wait_for_text("bob joined #team");
  wait_for_prompt(alice.pty, "#team> ");

  alice.pty.type("hi team\r");
  bob.expect_chat("#team alice: hi team");
  bob.send_line("#team: yo");
  expect_row_matching(alice.pty, "#team bob: yo", R"(\[\d\d:\d\d:\d\d\] #team bob: yo)");
}

TEST_CASE("client: a line that arrives is shown above a half-typed line, which stays as it was", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient alice(server.port(), {"--name", "alice"});
  wait_until_connected(alice.pty, server.port(), "alice");
  bob.expect("server:online alice");
  alice.pty.type("/msg bob\r");
  wait_for_exact_prompt(alice.pty, "bob> ");
  alice.pty.type("hel");
  wait_for_exact_prompt(alice.pty, "bob> ", "hel");

  bob.send_line("alice: ping!");
  alice.pty.wait_for(
      [](const Screen& screen) {
        const std::optional<int> ping = screen.last_row_with("bob: ping!");
        return ping && *ping < screen.cursor_row() && prompt_reads(screen, "bob> ", "hel");
      },
      kLineTimeout, "'bob: ping!' above the prompt row, which reads 'bob> hel' with the cursor after 'hel'");

  alice.pty.type("lo\r");
  bob.expect_chat("alice: hello");
}

TEST_CASE("client: /quit says goodbye and exits 0", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  TerminalClient alice(server.port(), {"--name", "alice"});
  wait_until_connected(alice.pty, server.port(), "alice");
  bob.expect("server:online alice");

  alice.pty.type("/quit\r");
  CHECK(alice.pty.wait_for_exit().describe() == "exited with 0");
  bob.expect("server:offline alice");
}

TEST_CASE("client: Ctrl-D on an empty line and Ctrl-C quit as /quit does", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  for (const char* key : {"\x04", "\x03"}) {
    CAPTURE(key[0] == '\x04' ? "Ctrl-D" : "Ctrl-C");
    TerminalClient alice(server.port(), {"--name", "alice"});
    wait_until_connected(alice.pty, server.port(), "alice");
    bob.expect("server:online alice");
    alice.pty.type("half");
    wait_for_exact_prompt(alice.pty, "(no target)> ", "half");
    if (key[0] == '\x04') {
      alice.pty.type("\x04");  // not on an empty line: deletes nothing, quits not
      alice.pty.type("\x15");  // Ctrl-U empties it
      wait_for_exact_prompt(alice.pty, "(no target)> ");
    }
    alice.pty.type(key);
    CHECK(alice.pty.wait_for_exit().describe() == "exited with 0");
    bob.expect("server:offline alice");
  }
}

TEST_CASE("client: colour only at a terminal without NO_COLOR", "[client]") {
  TestServer server;
  const ClientHome home;
  PtyProcess coloured(client_command(server.port(), {"--name", "alice"}),
                      {.env = home.env(), .no_color = false});
  coloured.wait_for_text("connected to");
  CHECK(coloured.output().find("\x1b[36m") != std::string::npos);

  PtyProcess plain(client_command(server.port(), {"--name", "bob"}), {.env = home.env()});
  plain.wait_for_text("connected to");
  CHECK(plain.output().find("\x1b[3") == std::string::npos);
  CHECK(plain.output().find("\x1b[1m") == std::string::npos);
}

TEST_CASE("client: --no-reconnect exits 1 when the server goes away", "[client]") {
  TestServer server;
  TerminalClient alice(server.port(), {"--name", "alice", "--no-reconnect"});
  wait_until_connected(alice.pty, server.port(), "alice");
  server.stop();
  CHECK(alice.pty.wait_for_exit().describe() == "exited with 1");
  CHECK(alice.pty.screen().contains("the server is shutting down"));
}

TEST_CASE("client: after a server restart it reconnects by itself and rejoins its rooms", "[client]") {
  RestartableServer servers;
  servers.keep_port();
  const int port = servers.server().port();
  TerminalClient alice(port, {"--name", "alice"});
  wait_until_connected(alice.pty, port, "alice");
  alice.pty.type("/join #team\r");
  alice.pty.wait_for_text("you joined #team");

  servers.restart();
  // carol waits in #team on the new server. Should alice have rejoined
  // before carol joined, she is among the members carol is told of.
  RegisteredClient carol(servers.server(), "carol");
  carol.send_line("server:join #team");
  const std::regex alice_is_member(R"(server:members #team( \S+)* alice( \S+)*)");
  const auto alice_rejoined = [&](const std::string& line) {
    return line == "server:joined #team alice" || std::regex_match(line, alice_is_member);
  };
  std::vector<std::string> skipped;
  if (!read_until(carol, alice_rejoined, kReconnectTimeout, skipped)) {
    std::string seen;
    for (const std::string& line : skipped) seen += "  '" + line + "'\n";
    FAIL("carol: no 'server:joined #team alice' within " << kReconnectTimeout.count() << " ms; lines seen:\n"
                                                         << seen
                                                         << "alice's terminal: " << alice.pty.describe());
  }
  alice.pty.wait_for_text("reconnected", kReconnectTimeout);
}

TEST_CASE("client: in a pipe it sends each line, then exits 0", "[client]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  const ClientHome home;
  const RunResult run =
      run_command_with_input(client_command(server.port(), {"--name", "bot"}), "bob: hi\n", home.env());
  INFO("uvchat's stdout:\n" << run.out << "its stderr:\n" << run.err);
  CHECK(run.status.describe() == "exited with 0");
  bob.expect("server:online bot");
  bob.expect_chat("bot: hi");
}

// ------------------------------------------------- options and config file

namespace {

// A configuration directory holding uvchat/client.toml with `toml`.
class ClientConfig {
 public:
  explicit ClientConfig(const std::string& toml) {
    REQUIRE(::mkdir(dir_.file("uvchat").c_str(), 0700) == 0);
    write_file_bytes(path(), toml);
  }
  std::string path() const { return dir_.file("uvchat/client.toml"); }
  std::vector<std::string> env() const { return {"HOME=" + dir_.path(), "XDG_CONFIG_HOME=" + dir_.path()}; }

 private:
  TempDir dir_;
};

}  // namespace

TEST_CASE("client: host, port and name come from client.toml, and options win over it", "[client][config]") {
  TestServer server;
  RegisteredClient bob(server, "bob");
  const ClientConfig config("host = \"127.0.0.1\"\nport = " + std::to_string(server.port()) +
                            "\nname = \"cfgbot\"\n");
  RunResult run = run_command_with_input({uvchat_path()}, "bob: from the file\n", config.env());
  INFO("stderr: " << run.err);
  CHECK(run.status.describe() == "exited with 0");
  bob.expect("server:online cfgbot");
  bob.expect_chat("cfgbot: from the file");
  bob.expect("server:offline cfgbot");

  run = run_command_with_input({uvchat_path(), "--name", "optbot"}, "bob: from the option\n", config.env());
  CHECK(run.status.describe() == "exited with 0");
  bob.expect("server:online optbot");
  bob.expect_chat("optbot: from the option");
}

TEST_CASE("client: a bad configuration file is refused with its name, line and key", "[client][config]") {
  const ClientConfig unknown_key("name = \"alice\"\ncolour = true\n");
  RunResult run = run_command_with_input({uvchat_path()}, "", unknown_key.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains(unknown_key.path() + ":2") && Catch::Contains("colour"));

  const ClientConfig bad_port("port = \"eighty\"\n");
  run = run_command_with_input({uvchat_path()}, "", bad_port.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains(bad_port.path() + ":1") && Catch::Contains("port"));

  const ClientHome home;
  run = run_command_with_input({uvchat_path(), "--config", "/nonexistent/client.toml"}, "", home.env());
  CHECK(run.status.describe() == "exited with 2");
  CHECK_THAT(run.err, Catch::Contains("/nonexistent/client.toml"));
}

TEST_CASE("client: bad options exit 2; a pipe needs a name; no server exits 1", "[client][config]") {
  const ClientHome home;
  CHECK(run_command_with_input({uvchat_path(), "--bogus"}, "", home.env()).status.describe() ==
        "exited with 2");
  CHECK(run_command_with_input({uvchat_path(), "--port", "99999"}, "", home.env()).status.describe() ==
        "exited with 2");
  const RunResult nameless = run_command_with_input({uvchat_path()}, "hi\n", home.env());
  CHECK(nameless.status.describe() == "exited with 2");
  CHECK_THAT(nameless.err, Catch::Contains("--name"));

  const int closed_port = [] {
    TestServer gone;
    return gone.port();
  }();
  const RunResult unreachable =
      run_command_with_input(client_command(closed_port, {"--name", "bot"}), "bob: hi\n", home.env());
  CHECK(unreachable.status.describe() == "exited with 1");
  CHECK_THAT(unreachable.err, Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(closed_port)));
}

TEST_CASE("client: a name with a password asks for it, and what is typed is not shown", "[client]") {
  TestServer server;
  {
    TestClient owner(server, "owner");
    owner.send_line("server:register carol s3cret-pw");
    owner.expect("server:welcome carol");
    owner.send_line("server:exit");
    owner.read_until_closed();
  }
  TerminalClient carol(server.port(), {"--name", "carol"});
  carol.pty.wait_for_text("the name carol has a password");
  wait_for_exact_prompt(carol.pty, "password for carol: ");
  carol.pty.type("s3cret-pw");
  wait_for_exact_prompt(carol.pty, "password for carol: ");
  carol.pty.type("\r");
  wait_until_connected(carol.pty, server.port(), "carol");
  CHECK_FALSE(carol.pty.screen().contains("s3cret"));
}
