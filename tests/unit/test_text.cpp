// The text rules of docs/PROTOCOL.md: UTF-8, control characters, names, rooms.
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/protocol/text.hpp"

namespace uvchat::protocol {
namespace {

using namespace std::string_literals;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string without_controls(std::string_view text) {
  std::string out;
  append_without_controls(text, out);
  return out;
}

TEST_CASE("is_valid_utf8 accepts well-formed text", "[text][utf8]") {
  const auto text = GENERATE(as<std::string>{},
                             "",                                    // nothing at all
                             "hello, world",                        // ASCII
                             "a long ASCII line over eight bytes",  // the 8-byte fast path
                             "caf\xC3\xA9",                         // 2 bytes: U+00E9
                             "\xC2\x80",                            // 2 bytes: lowest, U+0080
                             "\xDF\xBF",                            // 2 bytes: highest, U+07FF
                             "\xE0\xA0\x80",                        // 3 bytes: lowest, U+0800
                             "\xE2\x82\xAC",                        // 3 bytes: U+20AC euro
                             "\xED\x9F\xBF",                        // U+D7FF, just below the surrogates
                             "\xEE\x80\x80",                        // U+E000, just above them
                             "\xEF\xBF\xBF",                        // U+FFFF
                             "\xF0\x90\x80\x80",                    // 4 bytes: lowest, U+10000
                             "\xF0\x9F\x98\x80",                    // 4 bytes: U+1F600
                             "\xF4\x8F\xBF\xBF",                    // U+10FFFF, the last code point
                             "abcdefg\xC3\xA9",                     // multibyte across the end of a chunk
                             "abcdefgh\xC3\xA9xyz");                // multibyte right after a fast chunk
  CAPTURE(text);
  CHECK(is_valid_utf8(text));
}

TEST_CASE("is_valid_utf8 rejects overlong forms, surrogates and code points past U+10FFFF", "[text][utf8]") {
  const auto text = GENERATE(as<std::string>{},
                             "\xC0\x80",          // overlong NUL
                             "\xC0\xAF",          // overlong '/'
                             "\xC1\xBF",          // overlong U+007F
                             "\xE0\x80\x80",      // overlong 3-byte NUL
                             "\xE0\x9F\xBF",      // overlong U+07FF
                             "\xF0\x80\x80\x80",  // overlong 4-byte NUL
                             "\xF0\x8F\xBF\xBF",  // overlong U+FFFF
                             "\xED\xA0\x80",      // U+D800, first surrogate
                             "\xED\xBF\xBF",      // U+DFFF, last surrogate
                             "\xF4\x90\x80\x80",  // U+110000
                             "\xF5\x80\x80\x80",  // lead byte past F4
                             "\xFE",              // never in UTF-8
                             "\xFF");             // never in UTF-8 (telnet IAC)
  CAPTURE(text);
  CHECK_FALSE(is_valid_utf8(text));
}

TEST_CASE("is_valid_utf8 rejects truncated sequences and stray continuation bytes", "[text][utf8]") {
  const auto text = GENERATE(as<std::string>{},
                             "\xC3",                   // 2-byte lead at the end
                             "\xE2\x82",               // 3-byte sequence cut short
                             "\xF0\x9F\x98",           // 4-byte sequence cut short
                             "\xE2\x82z",              // continuation replaced by ASCII
                             "\xF0\x9Fzz",             // ditto, 4 bytes
                             "\xC3\xA9\xA9",           // one continuation too many
                             "\x80",                   // a lone continuation byte
                             "abc\xBF",                // stray continuation after ASCII
                             "abcdefg\x80",            // stray continuation in the last byte of a chunk
                             "abcdefgh\x80",           // stray continuation after a fast chunk
                             "abcdefghijklmnop\xC3");  // lead at the end after two fast chunks
  CAPTURE(text);
  CHECK_FALSE(is_valid_utf8(text));
}

TEST_CASE("is_valid_utf8 does not read past the end of its view", "[text][utf8]") {
  // The bytes after the view would complete the sequence: a view into a ring
  // or a read buffer has such neighbours.
  const std::string_view buffer = "ok \xE2\x82\xAC";
  CHECK(is_valid_utf8(buffer));
  CHECK_FALSE(is_valid_utf8(buffer.substr(0, buffer.size() - 1)));
  CHECK_FALSE(is_valid_utf8(buffer.substr(0, buffer.size() - 2)));
}

// Every byte from space to tilde.
std::string all_printable_ascii() {
  std::string printable;
  for (int c = 0x20; c < 0x7F; ++c) printable.push_back(static_cast<char>(c));
  return printable;
}

// For the checks that look at eight bytes at a time: a 19-byte line of 'a'
// (two words and a tail) with each byte value in turn at each place,
// check(text, byte, place).
template <typename Check>
void each_byte_at_each_place(Check check) {
  const std::string base(19, 'a');
  for (int byte = 0; byte < 0x100; ++byte) {
    for (std::size_t at = 0; at < base.size(); ++at) {
      std::string text = base;
      text[at] = static_cast<char>(byte);
      check(text, byte, at);
    }
  }
}

// has_controls checks plain ASCII eight bytes at a time: a control at any
// place of a word, or beside another, must still be found.
TEST_CASE("has_controls finds every control byte wherever it sits", "[text][controls]") {
  CHECK_FALSE(has_controls(all_printable_ascii()));
  CHECK_FALSE(has_controls("tab\tin the middle of a long enough line"));
  each_byte_at_each_place([](const std::string& text, int byte, std::size_t at) {
    if (byte >= 0x80) return;  // a lone byte from 0x80 up is no character
    const bool control = (byte < 0x20 && byte != '\t') || byte == 0x7F;
    CAPTURE(byte, at);
    CHECK(has_controls(text) == control);
  });
  const std::string base(19, 'a');
  std::string c1 = base;
  c1.replace(9, 2, "\xC2\x85");  // NEL, a C1 control in UTF-8
  CHECK(has_controls(c1));
  CHECK_FALSE(has_controls(base + "\xC2\xA0" + base));  // NBSP is not one
}

TEST_CASE("is_printable_ascii: every byte from space to tilde, and nothing else, anywhere", "[text]") {
  CHECK(is_printable_ascii(all_printable_ascii()));
  CHECK(is_printable_ascii(""));
  each_byte_at_each_place([](const std::string& text, int byte, std::size_t at) {
    CAPTURE(byte, at);
    CHECK(is_printable_ascii(text) == (byte >= 0x20 && byte <= 0x7E));
  });
}

TEST_CASE("Control characters are replaced by U+FFFD, TAB is kept", "[text][controls]") {
  SECTION("every C0 character but TAB, and DEL") {
    for (int byte = 0; byte <= 0x7F; ++byte) {
      if (byte >= 0x20 && byte < 0x7F) continue;
      const std::string text = "a"s + static_cast<char>(byte) + "b";
      CAPTURE(byte);
      const bool is_tab = byte == '\t';
      CHECK(has_controls(text) == !is_tab);
      CHECK(without_controls(text) == (is_tab ? text : "a"s + std::string(kReplacement) + "b"));
    }
  }
  SECTION("every C1 character, U+0080 to U+009F") {
    for (int second = 0x80; second <= 0x9F; ++second) {
      const std::string text = "x\xC2"s + static_cast<char>(second) + "y";
      CAPTURE(second);
      CHECK(has_controls(text));
      CHECK(without_controls(text) == "x"s + std::string(kReplacement) + "y");
    }
  }
  SECTION("printable text, U+00A0 and other multibyte characters are kept") {
    const std::string text = "tab\there \xC2\xA0 caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 ~";
    CHECK_FALSE(has_controls(text));
    std::string out;
    CHECK_FALSE(append_without_controls(text, out));
    CHECK(out == text);
  }
  SECTION("an escape sequence loses its ESC; the result says something was replaced") {
    std::string out = "kept:";
    CHECK(append_without_controls("\x1B[31mred\r", out));
    CHECK(out == "kept:"s + std::string(kReplacement) + "[31mred" + std::string(kReplacement));
  }
}

TEST_CASE("Names are 1-32 of [A-Za-z0-9_.-], the first a letter or digit", "[text][names]") {
  SECTION("valid") {
    const auto name = GENERATE(as<std::string>{}, "a", "Z", "7", "alice", "Bob_the.2nd-x", "0_", "a.",
                               std::string(kMaxNameLength, 'n'));
    CAPTURE(name);
    CHECK(is_valid_name(name));
  }
  SECTION("invalid") {
    const auto name =
        GENERATE(as<std::string>{}, "", std::string(kMaxNameLength + 1, 'n'), "_alice", ".alice", "-alice",
                 "#alice", "*", "a b", "a\tb", "a:b", "a,b", "a/b", "caf\xC3\xA9", "alice!");
    CAPTURE(name);
    CHECK_FALSE(is_valid_name(name));
  }
}

TEST_CASE("server and all are reserved in any case", "[text][names]") {
  SECTION("reserved") {
    const auto name =
        GENERATE(as<std::string>{}, "server", "SERVER", "Server", "sErVeR", "all", "ALL", "All");
    CAPTURE(name);
    CHECK(is_reserved_name(name));
  }
  SECTION("not reserved") {
    const auto name = GENERATE(as<std::string>{}, "servers", "serve", "al", "ally", "alice", "all_", "");
    CAPTURE(name);
    CHECK_FALSE(is_reserved_name(name));
  }
}

TEST_CASE("Rooms are # and a valid name", "[text][rooms]") {
  SECTION("valid") {
    const auto room =
        GENERATE(as<std::string>{}, "#a", "#team", "#Team-2.b_c", "#" + std::string(kMaxNameLength, 'r'));
    CAPTURE(room);
    CHECK(is_valid_room(room));
  }
  SECTION("invalid") {
    const auto room = GENERATE(as<std::string>{}, "", "#", "team", "##team", "#_team", "#.team", "#te am",
                               "#" + std::string(kMaxNameLength + 1, 'r'), "# team", "#team:");
    CAPTURE(room);
    CHECK_FALSE(is_valid_room(room));
  }
}

TEST_CASE("fold_case lowers ASCII letters only", "[text][case]") {
  CHECK(fold_case("") == "");
  CHECK(fold_case("AbC-_.9xyZ") == "abc-_.9xyz");
  CHECK(fold_case("#TEAM") == "#team");
  CHECK(fold_case("\xC3\x89T\xC3\x89") == "\xC3\x89t\xC3\x89");  // ÉTÉ: only the T folds
}

TEST_CASE("less_case_insensitive is a total order that ignores case first", "[text][case]") {
  SECTION("case does not decide the order of different names") {
    CHECK(less_case_insensitive("alice", "Bob"));
    CHECK(less_case_insensitive("Alice", "bob"));
    CHECK_FALSE(less_case_insensitive("Bob", "alice"));
    CHECK(less_case_insensitive("al", "ALICE"));
    CHECK_FALSE(less_case_insensitive("ALICE", "al"));
    CHECK(less_case_insensitive("_x", "a"));  // '_' sorts before lower-case letters
  }
  SECTION("irreflexive") {
    CHECK_FALSE(less_case_insensitive("alice", "alice"));
    CHECK_FALSE(less_case_insensitive("", ""));
  }
  SECTION("names equal but for case are still ordered, exactly one way") {
    CHECK(less_case_insensitive("Alice", "alice") != less_case_insensitive("alice", "Alice"));
    CHECK(less_case_insensitive("ALICE", "Alice") != less_case_insensitive("Alice", "ALICE"));
  }
  SECTION("sorting gives the order the server shows") {
    std::vector<std::string_view> names = {"carol", "Bob", "alice", "Dave", "ALICE", "bob2"};
    std::sort(names.begin(), names.end(), less_case_insensitive);
    CHECK(names == std::vector<std::string_view>{"ALICE", "alice", "Bob", "bob2", "carol", "Dave"});
  }
}

TEST_CASE("equal_case_insensitive and compare_case_insensitive fold ASCII only", "[text][case]") {
  CHECK(equal_case_insensitive("", ""));
  CHECK(equal_case_insensitive("Alice-2", "aLICE-2"));
  CHECK_FALSE(equal_case_insensitive("alice", "alicE_"));
  CHECK_FALSE(equal_case_insensitive("al", "ALICE"));
  CHECK_FALSE(equal_case_insensitive("\xC3\x89", "\xC3\xA9"));  // É and é: not ASCII, not folded
  CHECK(compare_case_insensitive("alice", "ALICE") == 0);
  CHECK(compare_case_insensitive("alice", "Bob") < 0);
  CHECK(compare_case_insensitive("BOB", "alice") > 0);
  CHECK(compare_case_insensitive("al", "ALICE") < 0);
  CHECK(compare_case_insensitive("ALICE", "al") > 0);
  CHECK(compare_case_insensitive("", "a") < 0);
  static_assert(to_lower('Q') == 'q' && to_lower('q') == 'q' && to_lower('[') == '[' && to_lower('@') == '@');
}

TEST_CASE("is_blank is true for nothing but spaces and tabs", "[text]") {
  CHECK(is_blank(""));
  CHECK(is_blank(" "));
  CHECK(is_blank(" \t \t"));
  CHECK_FALSE(is_blank(" a "));
  CHECK_FALSE(is_blank("\t."));
  CHECK_FALSE(is_blank(std::string_view(kReplacement)));
}

TEST_CASE("utf8_prefix cuts at most max bytes, never inside a character", "[text]") {
  CHECK(utf8_prefix("hello", 10) == "hello");
  CHECK(utf8_prefix("hello", 5) == "hello");
  CHECK(utf8_prefix("hello", 3) == "hel");
  CHECK(utf8_prefix("hello", 0).empty());
  // "é" is two bytes, "€" three: a cut inside either backs up to its start.
  CHECK(utf8_prefix("ab\xC3\xA9", 3) == "ab");
  CHECK(utf8_prefix("ab\xC3\xA9", 4) == "ab\xC3\xA9");
  CHECK(utf8_prefix("a\xE2\x82\xAC", 2) == "a");
  CHECK(utf8_prefix("a\xE2\x82\xAC", 3) == "a");
  CHECK(utf8_prefix("a\xE2\x82\xAC" "b", 4) == "a\xE2\x82\xAC");
}

}  // namespace
}  // namespace uvchat::protocol
