// The client's decisions (docs/CLIENT.md): registering, typed lines,
// reconnecting and rejoining, quitting, and the pipe mode.
#include <catch2/catch.hpp>
#include <optional>

#include "uvchat/client/session.hpp"

using namespace uvchat::client;
using Lines = std::vector<std::string>;
using Kind = Action::Kind;

namespace {

SessionConfig terminal_config(std::string name = {}) {
  SessionConfig config;
  config.server = "pi.local:8080";
  config.name = std::move(name);
  config.seed = 42;
  return config;
}

SessionConfig pipe_config() {
  SessionConfig config = terminal_config("bot");
  config.interactive = false;
  return config;
}

Lines of_kind(const Actions& actions, Kind kind) {
  Lines texts;
  for (const Action& action : actions) {
    if (action.kind == kind) texts.push_back(action.text);
  }
  return texts;
}

Lines sent(const Actions& actions) { return of_kind(actions, Kind::kSend); }
Lines shown(const Actions& actions) { return of_kind(actions, Kind::kShow); }

// A copy: the actions are often a temporary.
std::optional<Action> find(const Actions& actions, Kind kind) {
  for (const Action& action : actions) {
    if (action.kind == kind) return action;
  }
  return std::nullopt;
}

// A session registered as `name` at a terminal.
Session registered(const std::string& name) {
  Session session(terminal_config(name));
  session.start();
  session.connected();
  session.server_line("server:welcome " + name);
  session.server_line("server:queued-messages 0");
  return session;
}

}  // namespace

TEST_CASE("Without a name the client asks for one, then registers", "[client][session]") {
  Session session(terminal_config());
  const Actions start = session.start();
  REQUIRE(start.size() == 1);
  CHECK(start[0].kind == Kind::kConnect);

  CHECK(session.connected().empty());
  CHECK(session.input_mode() == InputMode::kName);
  CHECK(session.prompt() == "name: ");
  CHECK(session.typed("   ").empty());

  CHECK(sent(session.typed(" alice ")) == Lines{"server:register alice"});
  CHECK(session.input_mode() == InputMode::kChat);
  const Actions welcome = session.server_line("server:welcome Alice");
  CHECK(shown(welcome) == Lines{"connected to pi.local:8080 as Alice; /help lists the commands"});
  CHECK(session.prompt() == "(no target)> ");
}

TEST_CASE("A name that is taken or bad is asked for again", "[client][session]") {
  Session session(terminal_config("bob"));
  session.start();
  CHECK(sent(session.connected()) == Lines{"server:register bob"});

  CHECK(shown(session.server_line("server:error name-taken bob")) ==
        Lines{"the name bob is taken; choose another"});
  CHECK(session.input_mode() == InputMode::kName);
  CHECK(sent(session.typed("b b")) == Lines{"server:register b b"});
  const Actions bad = session.server_line("server:error bad-name names are 1-32 of ...");
  REQUIRE(shown(bad).size() == 1);
  CHECK_THAT(shown(bad)[0], Catch::StartsWith("not a valid name") && Catch::EndsWith("; choose another"));
  CHECK(sent(session.typed("bob2")) == Lines{"server:register bob2"});
  session.server_line("server:welcome bob2");
  CHECK(session.input_mode() == InputMode::kChat);
}

TEST_CASE("A name with a password asks for it, and the password is sent with the name", "[client][session]") {
  Session session(terminal_config("bob"));
  session.start();
  session.connected();
  CHECK(shown(session.server_line("server:error wrong-password bob")) ==
        Lines{"the name bob has a password"});
  CHECK(session.input_mode() == InputMode::kPassword);
  CHECK(session.prompt() == "password for bob: ");
  CHECK(sent(session.typed("s3cret pass")) == Lines{"server:register bob s3cret pass"});
  CHECK(shown(session.server_line("server:error wrong-password bob")) == Lines{"wrong password for bob"});
  CHECK(session.input_mode() == InputMode::kPassword);
}

TEST_CASE("Typed lines go to the target; the prompt shows it", "[client][session]") {
  Session session = registered("alice");
  CHECK(sent(session.typed("hello")).empty());
  CHECK(sent(session.typed("/msg bob hi")) == Lines{"bob: hi"});
  CHECK(session.prompt() == "bob> ");
  CHECK(sent(session.typed("more")) == Lines{"bob: more"});
  CHECK(sent(session.typed("/join #team")) == Lines{"server:join #team"});
  CHECK(session.prompt() == "#team> ");
  CHECK(shown(session.server_line("server:joined #team alice")) == Lines{"you joined #team"});
  CHECK(session.rooms() == std::set<std::string>{"#team"});
  CHECK(shown(session.server_line("[12:00:00] #team bob: yo")) == Lines{"[12:00:00] #team bob: yo"});
  session.server_line("server:left #team alice");
  CHECK(session.rooms().empty());
  CHECK(session.prompt() == "(no target)> ");
}

TEST_CASE("A dropped connection is retried after 1 s doubling to 30 s, with jitter", "[client][session]") {
  for (std::uint64_t random : {0ULL, 1ULL, 12345ULL, ~0ULL}) {
    CAPTURE(random);
    const std::uint64_t first = Session::backoff_ms(0, random);
    CHECK(first >= 500);
    CHECK(first <= 1000);
    CHECK(Session::backoff_ms(1, random) >= 1000);
    CHECK(Session::backoff_ms(1, random) <= 2000);
    CHECK(Session::backoff_ms(4, random) <= 16000);
    for (unsigned attempt : {5U, 6U, 40U}) {
      CHECK(Session::backoff_ms(attempt, random) >= 15000);
      CHECK(Session::backoff_ms(attempt, random) <= 30000);
    }
  }
  CHECK(Session::backoff_ms(0, 0) != Session::backoff_ms(0, 250));
}

TEST_CASE("After a drop the client registers again with its password and rejoins its rooms",
          "[client][session]") {
  SessionConfig config = terminal_config("alice");
  config.password = "pw";
  Session session(config);
  session.start();
  session.connected();
  session.server_line("server:welcome alice");
  session.typed("/join #team");
  session.server_line("server:joined #team alice");
  session.typed("/join #dev");
  session.server_line("server:joined #dev alice");

  Actions lost = session.connection_lost("the server closed it");
  REQUIRE(shown(lost).size() == 1);
  CHECK_THAT(shown(lost)[0], Catch::StartsWith("connection lost (the server closed it); reconnecting in "));
  const std::optional<Action> retry = find(lost, Kind::kReconnectIn);
  REQUIRE(retry.has_value());
  CHECK(retry->ms >= 500);
  CHECK(retry->ms <= 1000);
  CHECK(sent(session.typed("anyone?")).empty());

  // A second failure waits longer.
  const std::optional<Action> second = find(session.connect_failed("connection refused"), Kind::kReconnectIn);
  REQUIRE(second.has_value());
  CHECK(second->ms >= 1000);

  CHECK(sent(session.connected()) == Lines{"server:register alice pw"});
  const Actions welcome = session.server_line("server:welcome alice");
  CHECK(shown(welcome) == Lines{"reconnected to pi.local:8080 as alice; rejoining #dev #team"});
  CHECK(sent(welcome) == Lines{"server:join #dev", "server:join #team"});
  CHECK(session.prompt() == "#dev> ");
}

TEST_CASE("A name still taken on reconnecting is tried again later, not asked for", "[client][session]") {
  Session session = registered("alice");
  session.connection_lost("reset");
  session.connected();
  const Actions taken = session.server_line("server:error name-taken alice");
  CHECK(find(taken, Kind::kDisconnect).has_value());
  CHECK(find(taken, Kind::kReconnectIn).has_value());
  CHECK(session.input_mode() == InputMode::kChat);
}

TEST_CASE("--no-reconnect exits 1 when the connection drops", "[client][session]") {
  SessionConfig config = terminal_config("alice");
  config.reconnect = false;
  Session session(config);
  session.start();
  const std::optional<Action> failed = find(session.connect_failed("connection refused"), Kind::kExit);
  REQUIRE(failed.has_value());
  CHECK(failed->status == 1);
}

TEST_CASE("/quit, Ctrl-D and Ctrl-C send exit and end at bye", "[client][session]") {
  for (int way = 0; way < 3; ++way) {
    CAPTURE(way);
    Session session = registered("alice");
    const Actions quitting = way == 0   ? session.typed("/quit")
                             : way == 1 ? session.end_of_input()
                                        : session.interrupted();
    CHECK(sent(quitting) == Lines{"server:exit"});
    CHECK(find(quitting, Kind::kQuitIn).has_value());
    const std::optional<Action> exit = find(session.server_line("server:bye"), Kind::kExit);
    REQUIRE(exit.has_value());
    CHECK(exit->status == 0);
  }
  Session waiting(terminal_config("alice"));
  waiting.start();
  const std::optional<Action> now = find(waiting.interrupted(), Kind::kExit);
  REQUIRE(now.has_value());
  CHECK(now->status == 0);
}

TEST_CASE("In a pipe, lines wait for the welcome, and a pong ends it", "[client][session][pipe]") {
  Session session(pipe_config());
  session.start();
  CHECK(sent(session.typed("bob: the build is green")).empty());
  CHECK(sent(session.end_of_input()).empty());
  CHECK(sent(session.connected()) == Lines{"server:register bot"});
  const Actions welcome = session.server_line("server:welcome bot");
  CHECK(shown(welcome).empty());
  CHECK(sent(welcome) == Lines{"bob: the build is green", "server:ping"});
  CHECK(shown(session.server_line("[12:00:00] bob: thanks")) == Lines{"[12:00:00] bob: thanks"});
  CHECK(sent(session.server_line("server:pong")) == Lines{"server:exit"});
  const std::optional<Action> exit = find(session.server_line("server:bye"), Kind::kExit);
  REQUIRE(exit.has_value());
  CHECK(exit->status == 0);
}

TEST_CASE("In a pipe, an error answer or a refused name makes the exit status 1", "[client][session][pipe]") {
  Session session(pipe_config());
  session.start();
  session.connected();
  session.server_line("server:welcome bot");
  session.typed("carol: hi");
  session.end_of_input();
  const Actions error = session.server_line("server:error no-such-user carol");
  REQUIRE(shown(error) == Lines{"no such user: carol"});
  CHECK(error[0].tone == Tone::kError);
  session.server_line("server:pong");
  const std::optional<Action> exit = find(session.server_line("server:bye"), Kind::kExit);
  REQUIRE(exit.has_value());
  CHECK(exit->status == 1);

  Session refused(pipe_config());
  refused.start();
  refused.connected();
  const std::optional<Action> taken = find(refused.server_line("server:error name-taken bot"), Kind::kExit);
  REQUIRE(taken.has_value());
  CHECK(taken->status == 1);
}

TEST_CASE("In a pipe, plain text without a target is an error, not a send", "[client][session][pipe]") {
  Session session(pipe_config());
  session.start();
  session.connected();
  session.server_line("server:welcome bot");
  const Actions typed = session.typed("just text");
  CHECK(sent(typed).empty());
  REQUIRE(typed.size() == 1);
  CHECK(typed[0].tone == Tone::kError);
  CHECK(find(session.connection_lost("reset"), Kind::kExit)->status == 1);
}
