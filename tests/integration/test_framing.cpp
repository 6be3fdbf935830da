// PROTOCOL.md 1: how lines are framed and cleaned, both ways.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "harness.hpp"

using namespace uvchat::test;

namespace {

const std::string kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// "C0 AF": bytes that are not text, readable in a failure message.
std::string hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string text;
  for (const char byte : bytes) {
    const auto value = static_cast<unsigned char>(byte);
    if (!text.empty()) text.push_back(' ');
    text += {kDigits[value >> 4], kDigits[value & 0xF]};
  }
  return text;
}

std::string line_too_long(int limit) {
  return "server:error line-too-long the limit is " + std::to_string(limit) + " bytes";
}

// A DM line to `recipient` of exactly `size` bytes, without its line end.
std::string dm_of_size(const std::string& recipient, std::size_t size) {
  const std::string head = recipient + ": ";
  return head + std::string(size - head.size(), 'x');
}

// Two registered users, alice and bob, without presence lines.
struct Pair {
  explicit Pair(ServerSetup setup = {}) : server(with_presence_off(std::move(setup))) {}

  static ServerSetup with_presence_off(ServerSetup setup) {
    setup.args.insert(setup.args.end(), {"--presence", "off"});
    return setup;
  }

  TestServer server;
  RegisteredClient alice{server, "alice"};
  RegisteredClient bob{server, "bob"};
};

}  // namespace

TEST_CASE("framing: CR LF ends a line as LF does", "[framing]") {
  TestServer server;
  TestClient client(server);
  client.send("server:register alice\r\n");
  client.expect_lines({"server:welcome alice", "server:queued-messages 0"});
  client.send("alice: with CR LF\r\n");
  client.expect_chat("alice: with CR LF");
}

TEST_CASE("framing: telnet IAC sequences and NUL bytes are removed", "[framing]") {
  Pair pair;
  SECTION("IAC and one command byte") { pair.alice.send("server:pi\xFF\xF1ng\n"); }
  SECTION("IAC IAC") { pair.alice.send("server:\xFF\xFFping\n"); }
  SECTION("IAC WILL, WONT, DO, DONT and an option") {
    pair.alice.send("\xFF\xFB\x01server:\xFF\xFC\x01pi\xFF\xFD\x03ng\xFF\xFE\x22\r\n");
  }
  SECTION("a whole sub-negotiation") { pair.alice.send("\xFF\xFA\x18\x01\x02\x03\xFF\xF0server:ping\n"); }
  SECTION("NUL bytes") { pair.alice.send(std::string("\0ser\0ver:ping\0\n", 16)); }
  pair.alice.expect("server:pong");
  pair.alice.expect_quiet();
}

TEST_CASE("framing: IAC sequences inside a message are removed before anything else", "[framing]") {
  Pair pair;
  pair.alice.send("bob: h\xFF\xFD\x01i t\xFF\xF1here\n");
  pair.bob.expect_chat("alice: hi there");
  pair.alice.expect_quiet();
}

TEST_CASE("framing: a line of only telnet negotiation is ignored", "[framing]") {
  TestServer server;
  TestClient client(server);
  client.send("\xFF\xFB\x01\xFF\xFD\x03\xFF\xFB\x18\r\n");
  client.send(std::string("\0\0\n", 3));
  client.expect_quiet();
}

TEST_CASE("framing: empty lines and lines of spaces and tabs are ignored", "[framing]") {
  TestServer server;
  TestClient client(server);
  client.send("\n\r\n   \n\t\t\n \t \r\n");
  client.expect_quiet();
  client.register_as("alice");
  client.send("\n  \n");
  client.expect_quiet();
}

TEST_CASE("framing: a line over --max-line is line-too-long and the connection stays", "[framing]") {
  Pair pair({.args = {"--max-line", "64"}});
  pair.alice.send_line(dm_of_size("bob", 65));
  pair.alice.expect(line_too_long(64));
  pair.alice.send_line(dm_of_size("bob", 64));
  pair.bob.expect_chat("alice: " + std::string(59, 'x'));
  pair.alice.send(dm_of_size("bob", 64) + "\r\n");
  pair.bob.expect_chat("alice: " + std::string(59, 'x'));
  pair.alice.send(dm_of_size("bob", 200) + "\nbob: after\n");
  pair.alice.expect(line_too_long(64));
  pair.bob.expect_chat("alice: after");
  pair.alice.expect_quiet();
}

TEST_CASE("framing: the limit counts bytes as received with telnet bytes included", "[framing]") {
  Pair pair({.args = {"--max-line", "64"}});
  const std::string negotiation = "\xFF\xFB\x01\xFF\xFB\x03";
  pair.alice.send(negotiation + dm_of_size("bob", 64 - negotiation.size() + 1) + "\n");
  pair.alice.expect(line_too_long(64));
  pair.alice.send(negotiation + dm_of_size("bob", 64 - negotiation.size()) + "\n");
  pair.bob.expect_chat("alice: " + std::string(64 - negotiation.size() - 5, 'x'));
}

TEST_CASE("framing: a megabyte without LF gets exactly one line-too-long", "[framing]") {
  TestServer server;
  TestClient client(server);
  client.register_as("alice");
  client.send(std::string(1 << 20, 'y'));
  client.expect(line_too_long(4096));
  client.send("still the same line\nserver:ping\n");
  client.expect("server:pong");
  client.expect_quiet();
}

TEST_CASE("framing: a megabyte without LF with a small --max-line and the connection still works",
          "[framing]") {
  Pair pair({.args = {"--max-line", "64"}});
  pair.alice.send(std::string(1 << 20, 'z') + "\n");
  pair.alice.send_line("bob: still here");
  pair.alice.expect(line_too_long(64));
  pair.bob.expect_chat("alice: still here");
  pair.alice.expect_quiet();
}

TEST_CASE("framing: a line that is not UTF-8 is bad-utf8 and otherwise ignored", "[framing]") {
  Pair pair;
  const std::vector<std::string> invalid = {
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three bytes
      "\xF0\x80\x80\xAF",  // overlong, four bytes
      "\xED\xA0\x80",      // a surrogate, U+D800
      "\xED\xBF\xBF",      // a surrogate, U+DFFF
      "\xF4\x90\x80\x80",  // U+110000
      "\xF5\x80\x80\x80",  // no such lead byte
      "\x80",              // a lone continuation byte
      "\xE2\x82",          // cut short
      "\xFE",              // never in UTF-8
  };
  for (const std::string& bytes : invalid) {
    INFO("bytes: " << hex(bytes));
    pair.alice.send_line("bob: a" + bytes + "b");
    pair.alice.expect("server:error bad-utf8");
  }
  pair.bob.expect_quiet();
  pair.alice.send_line("bob: \xF4\x8F\xBF\xBF and \xEF\xBF\xBD are fine");
  pair.bob.expect_chat("alice: \xF4\x8F\xBF\xBF and \xEF\xBF\xBD are fine");
}

TEST_CASE("framing: control characters are each replaced by U+FFFD; TAB stays", "[framing]") {
  Pair pair;
  pair.alice.send_line("bob: \x1B[31mred\x1B[0m \x07\x7F|\xC2\x9B|\xC2\x80|\xC2\x9F|\xC2\xA0|\ttab|a\rb");
  const std::string r = kReplacement;
  pair.bob.expect_chat("alice: " + r + "[31mred" + r + "[0m " + r + r + "|" + r + "|" + r + "|" + r +
                       "|\xC2\xA0|\ttab|a" + r + "b");
}

TEST_CASE("framing: a line sent one byte at a time", "[framing]") {
  Pair pair;
  for (const char byte : std::string("bob: byte by byte\r\n")) pair.alice.send(std::string(1, byte));
  pair.bob.expect_chat("alice: byte by byte");
}

TEST_CASE("framing: many lines in one write are each answered in order", "[framing]") {
  TestServer server;
  TestClient client(server);
  client.send("server:ping\nserver:register alice\nserver:who\nalice: one\nalice: two\nserver:ping\n");
  client.expect_lines(
      {"server:pong", "server:welcome alice", "server:queued-messages 0", "server:users alice"});
  client.expect_chat("alice: one");
  client.expect_chat("alice: two");
  client.expect("server:pong");
}

TEST_CASE("framing: a last line without LF at the client's EOF is processed", "[framing]") {
  TestServer server({.args = {"--presence", "off"}});
  RegisteredClient bob(server, "bob");
  TestClient bot(server, "bot");
  bot.send("server:register bot\nserver:who");
  bot.shutdown_write();
  bot.expect_lines({"server:welcome bot", "server:queued-messages 0", "server:users bob bot"});
  bot.expect_closed();

  TestClient other(server, "other");
  other.send("server:register other\nbob:hi");
  other.shutdown_write();
  other.expect_lines({"server:welcome other", "server:queued-messages 0"});
  other.expect_closed();
  bob.expect_chat("other: hi");
}

TEST_CASE("framing: --crlf ends every line the server sends with CR LF", "[framing]") {
  TestServer server({.args = {"--crlf"}});
  TestClient alice(server, "alice");
  alice.send_line("server:register alice");
  alice.expect_lines({"server:welcome alice\r", "server:queued-messages 0\r"});
  TestClient bob(server, "bob");
  bob.send_line("server:register bob");
  bob.expect_lines({"server:welcome bob\r", "server:queued-messages 0\r"});
  alice.expect("server:online bob\r");
  bob.send_line("alice: hi");
  alice.expect_chat("bob: hi\r");
  alice.send_line("server:oops");
  alice.expect("server:error unknown-command oops, try server:help\r");
}
