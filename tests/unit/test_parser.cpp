// Client lines, docs/PROTOCOL.md section 3.
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/parser.hpp"

namespace uvchat::protocol {
namespace {

std::string_view kind_name(CommandKind kind) {
  switch (kind) {
    case CommandKind::kRegister: return "register";
    case CommandKind::kDirect: return "direct";
    case CommandKind::kRoom: return "room";
    case CommandKind::kBroadcast: return "broadcast";
    case CommandKind::kWho: return "who";
    case CommandKind::kJoin: return "join";
    case CommandKind::kLeave: return "leave";
    case CommandKind::kRooms: return "rooms";
    case CommandKind::kMembers: return "members";
    case CommandKind::kHistory: return "history";
    case CommandKind::kPing: return "ping";
    case CommandKind::kHelp: return "help";
    case CommandKind::kExit: return "exit";
    case CommandKind::kInvalid: return "invalid";
  }
  return "?";
}

}  // namespace
}  // namespace uvchat::protocol

namespace Catch {
template <>
struct StringMaker<uvchat::protocol::CommandKind> {
  static std::string convert(uvchat::protocol::CommandKind kind) {
    return std::string(uvchat::protocol::kind_name(kind));
  }
};
template <>
struct StringMaker<uvchat::protocol::ErrorCode> {
  static std::string convert(uvchat::protocol::ErrorCode code) {
    return std::string(uvchat::protocol::error_code_name(code));
  }
};
}  // namespace Catch

namespace uvchat::protocol {
namespace {

// A line that parses to a message (DM, room or broadcast).
void check_message(std::string_view line, CommandKind kind, std::string_view target, std::string_view text) {
  CAPTURE(line);
  const Command command = parse_line(line);
  CHECK(command.kind == kind);
  CHECK(command.target == target);
  CHECK(command.text == text);
}

// A server command with a target (or none).
void check_command(std::string_view line, CommandKind kind, std::string_view target = {}) {
  CAPTURE(line);
  const Command command = parse_line(line);
  CHECK(command.kind == kind);
  CHECK(command.target == target);
  CHECK(command.text.empty());
}

// A line that is refused with `code`; every refusal says why.
void check_invalid(std::string_view line, ErrorCode code) {
  CAPTURE(line);
  const Command command = parse_line(line);
  CHECK(command.kind == CommandKind::kInvalid);
  CHECK(command.error == code);
  if (code != ErrorCode::kEmptyMessage) CHECK_FALSE(command.detail.empty());
}

void check_history(std::string_view line, std::string_view target, bool of_room, int count) {
  CAPTURE(line);
  const Command command = parse_line(line);
  CHECK(command.kind == CommandKind::kHistory);
  CHECK(command.target == target);
  CHECK(command.history_of_room == of_room);
  CHECK(command.count == count);
}

void check_register(std::string_view line, std::string_view name, std::string_view password) {
  CAPTURE(line);
  const Command command = parse_line(line);
  CHECK(command.kind == CommandKind::kRegister);
  CHECK(command.target == name);
  CHECK(command.password == password);
}

TEST_CASE("server:register takes a name and the rest of the line as the password", "[parser]") {
  check_register("server:register alice", "alice", "");
  check_register("server:register Alice secret", "Alice", "secret");
  check_register("server:register  alice \t two  words\t ", "alice", "two  words");
  check_register("server:register\talice\tpass:word", "alice", "pass:word");
  check_register("server:register alice   ", "alice", "");
}

TEST_CASE("Commands without arguments parse, extra words ignored", "[parser]") {
  check_command("server:who", CommandKind::kWho);
  check_command("server:rooms", CommandKind::kRooms);
  check_command("server:ping", CommandKind::kPing);
  check_command("server:help", CommandKind::kHelp);
  check_command("server:exit", CommandKind::kExit);
  check_command("server:who is here", CommandKind::kWho);
  check_command("server: \tping  ", CommandKind::kPing);
}

TEST_CASE("The target server and the command word are case-insensitive", "[parser]") {
  check_command("SERVER:WHO", CommandKind::kWho);
  check_command("Server:Ping", CommandKind::kPing);
  check_command("sErVeR:rOoMs", CommandKind::kRooms);
  check_command("SERVER:JOIN #Team", CommandKind::kJoin, "Team");
  check_register("SERVER:REGISTER Bob pw", "Bob", "pw");
  check_history("Server:History #t 3", "t", true, 3);
}

TEST_CASE("join, leave and members take a room with or without its #", "[parser]") {
  const auto [word, kind] = GENERATE(table<std::string, CommandKind>({
      {"join", CommandKind::kJoin},
      {"leave", CommandKind::kLeave},
      {"members", CommandKind::kMembers},
  }));
  const std::string command = "server:" + word + " ";
  check_command(command + "#team", kind, "team");
  check_command(command + "team", kind, "team");
  check_command(command + "#Team", kind, "Team");
  check_command(command + "  #team  extra words", kind, "team");
  check_command("server:" + word + "\t#team", kind, "team");

  check_invalid("server:" + word, ErrorCode::kBadName);
  check_invalid(command + "  ", ErrorCode::kBadName);
  check_invalid(command + "#", ErrorCode::kBadName);
  check_invalid(command + "##team", ErrorCode::kBadName);
  check_invalid(command + "#_team", ErrorCode::kBadName);
  check_invalid(command + "#" + std::string(33, 'r'), ErrorCode::kBadName);
}

TEST_CASE("server:history takes a room or a name and an optional count", "[parser][history]") {
  check_history("server:history #team", "team", true, 0);
  check_history("server:history bob", "bob", false, 0);
  check_history("server:history team", "team", false, 0);  // a bare word is a name
  check_history("server:history #team 20", "team", true, 20);
  check_history("server:history  Bob\t1 extra", "Bob", false, 1);
}

TEST_CASE("server:history clamps its count to 500", "[parser][history]") {
  check_history("server:history #team 500", "team", true, kMaxHistoryCount);
  check_history("server:history #team 501", "team", true, kMaxHistoryCount);
  check_history("server:history bob 100000", "bob", false, kMaxHistoryCount);
}

TEST_CASE("server:history refuses a count that is not a positive number", "[parser][history]") {
  const auto count = GENERATE(as<std::string>{}, "0", "-1", "ten", "12x", "1.5", "x12");
  const Command command = parse_line("server:history #team " + count);
  CAPTURE(count);
  CHECK(command.kind == CommandKind::kInvalid);
  CHECK_FALSE(command.detail.empty());
}

TEST_CASE("server:history needs a valid room or name", "[parser][history]") {
  check_invalid("server:history", ErrorCode::kBadName);
  check_invalid("server:history #", ErrorCode::kBadName);
  check_invalid("server:history #-x", ErrorCode::kBadName);
  check_invalid("server:history _bob", ErrorCode::kBadName);
  check_invalid("server:history server", ErrorCode::kBadName);
  check_invalid("server:history ALL 5", ErrorCode::kBadName);
}

TEST_CASE("NAME:TEXT is a direct message", "[parser][message]") {
  check_message("bob:hi", CommandKind::kDirect, "bob", "hi");
  check_message("Bob: hi there", CommandKind::kDirect, "Bob", "hi there");
  check_message("b.o-b_2:x", CommandKind::kDirect, "b.o-b_2", "x");
}

TEST_CASE("Exactly one leading space of TEXT is dropped, nothing else", "[parser][message]") {
  check_message("bob: hi", CommandKind::kDirect, "bob", "hi");
  check_message("bob:  hi", CommandKind::kDirect, "bob", " hi");
  check_message("bob: hi  ", CommandKind::kDirect, "bob", "hi  ");
  check_message("bob:\thi", CommandKind::kDirect, "bob", "\thi");
}

TEST_CASE("Only the first colon splits the target from the text", "[parser][message]") {
  check_message("bob: a:b:c", CommandKind::kDirect, "bob", "a:b:c");
  check_message("bob::)", CommandKind::kDirect, "bob", ":)");
  check_message("#team: 10:30 standup", CommandKind::kRoom, "team", "10:30 standup");
}

TEST_CASE("Spaces and tabs around the target are trimmed", "[parser][message]") {
  check_message("  bob :hi", CommandKind::kDirect, "bob", "hi");
  check_message("\t#team\t: hi", CommandKind::kRoom, "team", "hi");
  check_message(" * : hi", CommandKind::kBroadcast, "", "hi");
  check_command("  server  :who", CommandKind::kWho);
}

TEST_CASE("#ROOM:TEXT is a room message, the target without its #", "[parser][message]") {
  check_message("#team:hello", CommandKind::kRoom, "team", "hello");
  check_message("#Team: hello", CommandKind::kRoom, "Team", "hello");
  check_invalid("#:hi", ErrorCode::kBadName);
  check_invalid("##team:hi", ErrorCode::kBadName);
  check_invalid("#.team:hi", ErrorCode::kBadName);
  check_invalid("#te am:hi", ErrorCode::kBadName);
  check_invalid("#" + std::string(33, 'r') + ":hi", ErrorCode::kBadName);
}

TEST_CASE("*:TEXT is a broadcast", "[parser][message]") {
  check_message("*:hello all", CommandKind::kBroadcast, "", "hello all");
  check_message("*: hello", CommandKind::kBroadcast, "", "hello");
}

TEST_CASE("A TEXT that is empty or blank is empty-message", "[parser][message]") {
  const auto target = GENERATE(as<std::string>{}, "bob", "#team", "*");
  for (const std::string text : {"", " ", "  ", " \t ", "\t"}) {
    check_invalid(target + ":" + text, ErrorCode::kEmptyMessage);
  }
}

TEST_CASE("Bad, missing and reserved names are bad-name", "[parser][names]") {
  SECTION("as a DM target") {
    for (const std::string target : {"", " ", "_bob", "-bob", "bob smith", "bob!", "all", "ALL", "All"}) {
      check_invalid(target + ":hi", ErrorCode::kBadName);
    }
    check_invalid(std::string(33, 'n') + ":hi", ErrorCode::kBadName);
  }
  SECTION("in server:register") {
    for (const std::string name :
         {"", "_alice", ".alice", "#alice", "*", "al!ce", "server", "SERVER", "all", "All"}) {
      check_invalid("server:register " + name, ErrorCode::kBadName);
    }
    check_invalid("server:register " + std::string(33, 'n'), ErrorCode::kBadName);
    check_register("server:register " + std::string(32, 'n'), std::string(32, 'n'), "");
  }
}

TEST_CASE("A line without a colon is an unknown command", "[parser][unknown]") {
  check_invalid("hello world", ErrorCode::kUnknownCommand);
  check_invalid("server who", ErrorCode::kUnknownCommand);
}

TEST_CASE("An unknown word after server: is an unknown command that names the word", "[parser][unknown]") {
  struct Case {
    std::string line;
    std::string word;
  };
  const auto [line, word] = GENERATE(values<Case>({
      {"server:dance", "dance"},
      {"server:Dance now", "Dance"},
      {"server:  registers alice", "registers"},
      {"server:whoami", "whoami"},
      {"SERVER:HISTORYX #t", "HISTORYX"},
  }));
  check_invalid(line, ErrorCode::kUnknownCommand);
  CHECK(parse_line(line).detail_subject == word);
}

TEST_CASE("server: with no word at all is an unknown command", "[parser][unknown]") {
  check_invalid("server:", ErrorCode::kUnknownCommand);
  check_invalid("server: \t", ErrorCode::kUnknownCommand);
}

}  // namespace
}  // namespace uvchat::protocol
