// The client's line editor: keys in, a line and terminal output out.
#include <catch2/catch.hpp>
#include <clocale>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/client/line_editor.hpp"

namespace uvchat::client {
namespace {

using namespace std::string_literals;
using Lines = std::vector<std::string>;
using Events = std::vector<EditorEvent>;

const std::string kEnter = "\r";
const std::string kBackspace = "\x7f";
const std::string kDelete = "\x1b[3~";
const std::string kLeft = "\x1b[D";
const std::string kRight = "\x1b[C";
const std::string kHome = "\x1b[H";
const std::string kEnd = "\x1b[F";
const std::string kUp = "\x1b[A";
const std::string kDown = "\x1b[B";
const std::string kCtrlC = "\x03";
const std::string kCtrlD = "\x04";
const std::string kCtrlK = "\x0b";
const std::string kCtrlU = "\x15";
const std::string kCtrlW = "\x17";

// Whole, as one read would give it, or one byte per feed().
std::vector<EditorResult> type(LineEditor& editor, std::string_view bytes, bool byte_by_byte = false) {
  if (!byte_by_byte) return editor.feed(bytes);
  std::vector<EditorResult> results;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (auto& result : editor.feed(bytes.substr(i, 1))) results.push_back(std::move(result));
  }
  return results;
}

Events events_of(const std::vector<EditorResult>& results) {
  Events events;
  for (const auto& result : results) events.push_back(result.event);
  return events;
}

Lines submitted(const std::vector<EditorResult>& results) {
  Lines lines;
  for (const auto& result : results) {
    if (result.event == EditorEvent::kSubmit) lines.push_back(result.line);
  }
  return lines;
}

std::string repeat(const std::string& text, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

// wcwidth() knows wide characters only in a UTF-8 locale, as the client
// runs; the tests otherwise run in the "C" locale.
class Utf8Locale {
 public:
  Utf8Locale() : previous_(std::setlocale(LC_CTYPE, nullptr)) {
    REQUIRE(std::setlocale(LC_CTYPE, "C.UTF-8"));
  }
  ~Utf8Locale() { std::setlocale(LC_CTYPE, previous_.c_str()); }
  Utf8Locale(const Utf8Locale&) = delete;
  Utf8Locale& operator=(const Utf8Locale&) = delete;

 private:
  std::string previous_;
};

// What render() drew after the prompt, and the cursor's column.
struct Screen {
  std::string text;
  std::size_t cursor_column = 0;
};

Screen parse_render(const std::string& output, const std::string& prompt) {
  const std::string start = "\r" + prompt;
  REQUIRE(output.substr(0, start.size()) == start);
  const std::size_t erase = output.find("\x1b[K\r", start.size());
  REQUIRE(erase != std::string::npos);
  Screen screen{output.substr(start.size(), erase - start.size()), 0};
  const std::string move = output.substr(erase + 4);
  if (move.empty()) return screen;
  REQUIRE(move.size() > 3);
  REQUIRE(move.substr(0, 2) == "\x1b[");
  REQUIRE(move.back() == 'C');
  screen.cursor_column = std::stoul(move.substr(2, move.size() - 3));
  REQUIRE(screen.cursor_column > 0);
  return screen;
}

TEST_CASE("Printable characters are inserted at the cursor", "[client][editor]") {
  const bool byte_by_byte = GENERATE(false, true);
  CAPTURE(byte_by_byte);
  LineEditor editor;
  CHECK(type(editor, "ac" + kLeft + "b", byte_by_byte).empty());
  CHECK(editor.line() == "abc");
  CHECK(editor.cursor() == 2);
}

TEST_CASE("Enter (CR or LF) submits the line as typed and empties it", "[client][editor]") {
  const std::string enter = GENERATE("\r"s, "\n"s);
  CAPTURE(enter);
  LineEditor editor;
  const auto results = type(editor, "  hi there  " + enter);
  REQUIRE(events_of(results) == Events{EditorEvent::kSubmit});
  CHECK(results[0].line == "  hi there  ");
  CHECK(editor.line().empty());
  CHECK(editor.cursor() == 0);
  CHECK(submitted(type(editor, enter)) == Lines{""});
}

TEST_CASE("CR LF is one Enter, also when a feed ends between them", "[client][editor]") {
  LineEditor editor;
  CHECK(submitted(type(editor, "one\r")) == Lines{"one"});
  CHECK(submitted(type(editor, "\ntwo\r\n")) == Lines{"two"});
  CHECK(submitted(type(editor, "three\r\nfour\r\n", true)) == (Lines{"three", "four"}));
  CHECK(submitted(type(editor, "a\rb\n")) == (Lines{"a", "b"}));
}

TEST_CASE("CR CR, LF LF and LF CR are two Enters", "[client][editor]") {
  const std::string enters = GENERATE("\r\r"s, "\n\n"s, "\n\r"s);
  CAPTURE(enters);
  LineEditor editor;
  CHECK(submitted(type(editor, "x" + enters)) == (Lines{"x", ""}));
}

TEST_CASE("Backspace (DEL or Ctrl-H) deletes the character before the cursor", "[client][editor]") {
  const std::string backspace = GENERATE("\x7f"s, "\x08"s);
  CAPTURE(backspace);
  LineEditor editor;
  type(editor, "abc" + kLeft + backspace);
  CHECK(editor.line() == "ac");
  CHECK(editor.cursor() == 1);
  type(editor, kHome + backspace);
  CHECK(editor.line() == "ac");
  CHECK(editor.cursor() == 0);
}

TEST_CASE("Delete deletes the character at the cursor", "[client][editor]") {
  LineEditor editor;
  type(editor, "abc" + kHome + kDelete);
  CHECK(editor.line() == "bc");
  CHECK(editor.cursor() == 0);
  type(editor, kEnd + kDelete);
  CHECK(editor.line() == "bc");
  CHECK(editor.cursor() == 2);
}

TEST_CASE("Left and Right move the cursor and stop at the ends", "[client][editor]") {
  const auto [left, right] = GENERATE(std::pair{"\x1b[D"s, "\x1b[C"s}, std::pair{"\x1bOD"s, "\x1bOC"s});
  CAPTURE(left, right);
  LineEditor editor;
  type(editor, "abc" + left);
  CHECK(editor.cursor() == 2);
  type(editor, left + left + left);
  CHECK(editor.cursor() == 0);
  type(editor, right);
  CHECK(editor.cursor() == 1);
  type(editor, repeat(right, 5));
  CHECK(editor.cursor() == 3);
  CHECK(editor.line() == "abc");
}

TEST_CASE("Home: ESC [ H, ESC [ 1 ~, ESC O H and Ctrl-A", "[client][editor]") {
  const std::string home = GENERATE("\x1b[H"s, "\x1b[1~"s, "\x1bOH"s, "\x01"s);
  CAPTURE(home);
  LineEditor editor;
  type(editor, "abc" + home);
  CHECK(editor.cursor() == 0);
  type(editor, "x");
  CHECK(editor.line() == "xabc");
}

TEST_CASE("End: ESC [ F, ESC [ 4 ~, ESC O F and Ctrl-E", "[client][editor]") {
  const std::string end = GENERATE("\x1b[F"s, "\x1b[4~"s, "\x1bOF"s, "\x05"s);
  CAPTURE(end);
  LineEditor editor;
  type(editor, "abc" + kHome + end);
  CHECK(editor.cursor() == 3);
  type(editor, "x");
  CHECK(editor.line() == "abcx");
}

TEST_CASE("Ctrl-U deletes to the start of the line", "[client][editor]") {
  LineEditor editor;
  type(editor, "hello world" + repeat(kLeft, 5) + kCtrlU);
  CHECK(editor.line() == "world");
  CHECK(editor.cursor() == 0);
}

TEST_CASE("Ctrl-K deletes to the end of the line", "[client][editor]") {
  LineEditor editor;
  type(editor, "hello world" + repeat(kLeft, 5) + kCtrlK);
  CHECK(editor.line() == "hello ");
  CHECK(editor.cursor() == 6);
}

TEST_CASE("Ctrl-W deletes the word before the cursor, and the spaces after it", "[client][editor]") {
  struct Case {
    std::string keys;
    std::string line;
    std::size_t cursor;
  };
  const Case c = GENERATE(Case{"say hello  world", "say hello  ", 11}, Case{"say hello  ", "say ", 4},
                          Case{"hello world" + kLeft + kLeft, "hello ld", 6}, Case{"word", "", 0},
                          Case{"   ", "", 0}, Case{"abc" + kHome, "abc", 0});
  CAPTURE(c.keys);
  LineEditor editor;
  type(editor, c.keys + kCtrlW);
  CHECK(editor.line() == c.line);
  CHECK(editor.cursor() == c.cursor);
}

TEST_CASE("Ctrl-D on an empty line is the end of input", "[client][editor]") {
  LineEditor editor;
  CHECK(events_of(type(editor, kCtrlD)) == Events{EditorEvent::kEndOfInput});
}

TEST_CASE("Ctrl-D on a line with text deletes at the cursor", "[client][editor]") {
  LineEditor editor;
  CHECK(type(editor, "abc" + kHome + kCtrlD).empty());
  CHECK(editor.line() == "bc");
  CHECK(editor.cursor() == 0);
  CHECK(type(editor, kEnd + kCtrlD).empty());  // nothing at the cursor
  CHECK(editor.line() == "bc");
  CHECK(type(editor, kHome + kCtrlD + kCtrlD).empty());
  CHECK(editor.line().empty());
  CHECK(events_of(type(editor, kCtrlD)) == Events{EditorEvent::kEndOfInput});
}

TEST_CASE("Ctrl-C is an interrupt and keeps the line", "[client][editor]") {
  LineEditor editor;
  const auto results = type(editor, "half typed" + kLeft + kCtrlC);
  CHECK(events_of(results) == Events{EditorEvent::kInterrupt});
  CHECK(editor.line() == "half typed");
  CHECK(editor.cursor() == 9);
}

TEST_CASE("Events come out in the order typed", "[client][editor]") {
  LineEditor editor;
  const auto results = type(editor, "a\r" + kCtrlC + "b\nc" + kCtrlU + kCtrlD);
  CHECK(events_of(results) == Events{EditorEvent::kSubmit, EditorEvent::kInterrupt, EditorEvent::kSubmit,
                                     EditorEvent::kEndOfInput});
  CHECK(submitted(results) == (Lines{"a", "b"}));
}

TEST_CASE("Other control characters are ignored", "[client][editor]") {
  const std::string control = GENERATE(std::string(1, '\0'), "\x02"s, "\x06"s, "\x07"s, "\t"s, "\x0c"s,
                                       "\x0e"s, "\x0f"s, "\x10"s, "\x11"s, "\x12"s, "\x13"s, "\x14"s, "\x16"s,
                                       "\x18"s, "\x19"s, "\x1a"s, "\x1c"s, "\x1d"s, "\x1e"s, "\x1f"s);
  CAPTURE(control);
  LineEditor editor;
  CHECK(type(editor, "ab" + control + "c").empty());
  CHECK(editor.line() == "abc");
  CHECK(editor.cursor() == 3);
}

TEST_CASE("Unknown escape sequences are ignored, however long", "[client][editor]") {
  const std::string sequence = GENERATE("\x1b[5~"s,                       // Page Up
                                        "\x1b[1;5C"s,                     // Ctrl-Right
                                        "\x1b[1;5D"s,                     // Ctrl-Left
                                        "\x1b[3;5~"s,                     // Ctrl-Delete
                                        "\x1b[Z"s,                        // Shift-Tab
                                        "\x1b[200~"s,                     // bracketed paste begins
                                        "\x1b[?1;2c"s,                    // a device attributes answer
                                        "\x1bOP"s,                        // F1
                                        "\x1b" + "b"s,                    // Alt-b
                                        "\x1b[" + repeat("3", 40) + "~",  // cut to 16 bytes while read
                                        "\x1b[" + repeat(";", 40) + "C");
  const bool byte_by_byte = GENERATE(false, true);
  CAPTURE(sequence, byte_by_byte);
  LineEditor editor;
  CHECK(type(editor, "ab" + kLeft + sequence + "c", byte_by_byte).empty());
  CHECK(editor.line() == "acb");
  CHECK(editor.cursor() == 2);
}

TEST_CASE("An escape sequence cut short by another key is dropped and the key acted on", "[client][editor]") {
  LineEditor editor;
  CHECK(submitted(type(editor, "ab\x1b[\r")) == Lines{"ab"});
  type(editor, "ab\x1b\x1b[Dx");
  CHECK(editor.line() == "axb");
  editor.clear();
  type(editor, "ab\x1b[1\x7f");
  CHECK(editor.line() == "a");
  editor.clear();
  type(editor, "\x1b\xc3\xa9");
  CHECK(editor.line() == "\xc3\xa9");
}

TEST_CASE("Bytes that are not UTF-8 are ignored", "[client][editor]") {
  const std::string bad = GENERATE("\x80"s,              // a continuation byte alone
                                   "\xbf"s,              // another
                                   "\xc0\x80"s,          // overlong NUL
                                   "\xc1\xbf"s,          // overlong U+007F
                                   "\xe0\x80\x80"s,      // overlong 3-byte NUL
                                   "\xe0\x9f\xbf"s,      // overlong U+07FF
                                   "\xf0\x8f\xbf\xbf"s,  // overlong U+FFFF
                                   "\xed\xa0\x80"s,      // a surrogate
                                   "\xf4\x90\x80\x80"s,  // past U+10FFFF
                                   "\xf5\x80\x80\x80"s,  // lead byte past F4
                                   "\xfe"s, "\xff"s,
                                   "\xc3"s,       // a lead byte with nothing after it
                                   "\xe2\x82"s,   // three bytes cut after two
                                   "\xc2\x85"s,   // U+0085, a C1 control
                                   "\xc2\x9b"s);  // U+009B, the C1 CSI
  const bool byte_by_byte = GENERATE(false, true);
  CAPTURE(bad, byte_by_byte);
  LineEditor editor;
  CHECK(type(editor, "a" + bad + "b", byte_by_byte).empty());
  CHECK(editor.line() == "ab");
  CHECK(editor.cursor() == 2);
}

TEST_CASE("An escape sequence split across feeds is put together", "[client][editor]") {
  struct Case {
    std::string sequence;
    std::string line;  // after "abc", Left, the sequence and "x"
  };
  const Case c =
      GENERATE(Case{"\x1b[D", "axbc"}, Case{"\x1bOD", "axbc"}, Case{"\x1b[C", "abcx"}, Case{"\x1bOC", "abcx"},
               Case{"\x1b[1~", "xabc"}, Case{"\x1b[4~", "abcx"}, Case{"\x1b[3~", "abx"});
  for (std::size_t split = 1; split < c.sequence.size(); ++split) {
    CAPTURE(c.sequence, split);
    LineEditor editor;
    CHECK(type(editor, "abc" + kLeft + c.sequence.substr(0, split)).empty());
    CHECK(editor.line() == "abc");
    type(editor, c.sequence.substr(split) + "x");
    CHECK(editor.line() == c.line);
  }
}

TEST_CASE("A UTF-8 character split across feeds is put together", "[client][editor]") {
  const std::string character = GENERATE("\xc3\xa9"s,           // U+00E9
                                         "\xe2\x82\xac"s,       // U+20AC
                                         "\xf0\x9f\x98\x80"s);  // U+1F600
  for (std::size_t split = 1; split < character.size(); ++split) {
    CAPTURE(character, split);
    LineEditor editor;
    type(editor, "a" + character.substr(0, split));
    CHECK(editor.line() == "a");
    type(editor, character.substr(split) + "b");
    CHECK(editor.line() == "a" + character + "b");
    CHECK(editor.cursor() == character.size() + 2);
  }
}

TEST_CASE("The cursor moves over whole code points", "[client][editor]") {
  LineEditor editor;
  type(editor, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");  // a, U+00E9, U+20AC, U+1F600: 10 bytes
  CHECK(editor.cursor() == 10);
  const std::vector<std::size_t> leftwards{6, 3, 1, 0, 0};
  for (const std::size_t expected : leftwards) {
    type(editor, kLeft);
    CHECK(editor.cursor() == expected);
  }
  const std::vector<std::size_t> rightwards{1, 3, 6, 10, 10};
  for (const std::size_t expected : rightwards) {
    type(editor, kRight);
    CHECK(editor.cursor() == expected);
  }
}

TEST_CASE("Backspace, Delete and Ctrl-D delete whole code points", "[client][editor]") {
  LineEditor editor;
  type(editor, "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" + kBackspace);
  CHECK(editor.line() == "a\xc3\xa9\xe2\x82\xac");
  type(editor, kBackspace);
  CHECK(editor.line() == "a\xc3\xa9");
  type(editor, kBackspace);
  CHECK(editor.line() == "a");
  CHECK(editor.cursor() == 1);

  editor.clear();
  type(editor, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" + kHome + kDelete);
  CHECK(editor.line() == "\xe2\x82\xac\xf0\x9f\x98\x80");
  type(editor, kCtrlD);
  CHECK(editor.line() == "\xf0\x9f\x98\x80");
  CHECK(editor.cursor() == 0);
}

TEST_CASE("Ctrl-W deletes a word of multibyte characters whole", "[client][editor]") {
  LineEditor editor;
  type(editor, "h\xc3\xa9llo w\xc3\xb6rld" + kCtrlW);
  CHECK(editor.line() == "h\xc3\xa9llo ");
  type(editor, kCtrlW);
  CHECK(editor.line().empty());
}

TEST_CASE("Up and Down walk the history and keep the line being typed", "[client][editor]") {
  LineEditor editor;
  type(editor, "one\rtwo\rdra");
  type(editor, kUp);
  CHECK(editor.line() == "two");
  CHECK(editor.cursor() == 3);
  type(editor, kUp);
  CHECK(editor.line() == "one");
  type(editor, kUp);  // the oldest: stays
  CHECK(editor.line() == "one");
  type(editor, kDown);
  CHECK(editor.line() == "two");
  type(editor, kDown);
  CHECK(editor.line() == "dra");
  CHECK(editor.cursor() == 3);
  type(editor, kDown);  // already the newest
  CHECK(editor.line() == "dra");
}

TEST_CASE("Up and Down work in application cursor mode too (ESC O A, ESC O B)", "[client][editor]") {
  LineEditor editor;
  type(editor, "one\rtwo\r");
  type(editor, "\x1bOA\x1bOA");
  CHECK(editor.line() == "one");
  type(editor, "\x1bOB");
  CHECK(editor.line() == "two");
}

TEST_CASE("Up and Down with no history change nothing", "[client][editor]") {
  LineEditor editor;
  type(editor, "abc" + kLeft + kUp);
  CHECK(editor.line() == "abc");
  CHECK(editor.cursor() == 2);
  type(editor, kDown);
  CHECK(editor.line() == "abc");
  CHECK(editor.cursor() == 2);
}

TEST_CASE("A line recalled and edited is submitted as edited and goes into the history", "[client][editor]") {
  LineEditor editor;
  type(editor, "one\r" + kUp + "!");
  CHECK(submitted(type(editor, kEnter)) == Lines{"one!"});
  CHECK(editor.line().empty());
  type(editor, kUp);
  CHECK(editor.line() == "one!");
  type(editor, kUp);
  CHECK(editor.line() == "one");
}

TEST_CASE("The history keeps at most its limit, forgetting the oldest", "[client][editor]") {
  LineEditor editor(2);
  type(editor, "a\rb\rc\r" + kUp);
  CHECK(editor.line() == "c");
  type(editor, kUp);
  CHECK(editor.line() == "b");
  type(editor, kUp);
  CHECK(editor.line() == "b");
}

TEST_CASE("A history limit of 0 keeps nothing", "[client][editor]") {
  LineEditor editor(0);
  type(editor, "a\r" + kUp);
  CHECK(editor.line().empty());
}

TEST_CASE("A line the same as the last one is not kept twice", "[client][editor]") {
  LineEditor editor;
  type(editor, "first\rsame\rsame\r" + kUp);
  CHECK(editor.line() == "same");
  type(editor, kUp);
  CHECK(editor.line() == "first");
}

TEST_CASE("A line the same as an older one is kept", "[client][editor]") {
  LineEditor editor;
  type(editor, "a\rb\ra\r" + kUp);
  CHECK(editor.line() == "a");
  type(editor, kUp);
  CHECK(editor.line() == "b");
  type(editor, kUp);
  CHECK(editor.line() == "a");
}

TEST_CASE("Empty lines are not kept in the history", "[client][editor]") {
  LineEditor editor;
  type(editor, "x\r\r" + kUp);
  CHECK(editor.line() == "x");
}

TEST_CASE("Masked lines are not kept in the history", "[client][editor]") {
  LineEditor editor;
  type(editor, "visible\r");
  editor.set_masked(true);
  CHECK(submitted(type(editor, "secret\r")) == Lines{"secret"});
  editor.set_masked(false);
  type(editor, kUp);
  CHECK(editor.line() == "visible");
  type(editor, kUp);
  CHECK(editor.line() == "visible");
}

TEST_CASE("A masked line does not walk the history", "[client][editor]") {
  LineEditor editor;
  type(editor, "old\r");
  editor.set_masked(true);
  type(editor, "pw" + kUp);
  CHECK(editor.line() == "pw");
  type(editor, kDown);
  CHECK(editor.line() == "pw");
}

TEST_CASE("clear() forgets the line being typed, not the history", "[client][editor]") {
  LineEditor editor;
  type(editor, "kept\rtyped");
  editor.clear();
  CHECK(editor.line().empty());
  CHECK(editor.cursor() == 0);
  type(editor, kUp);
  CHECK(editor.line() == "kept");
  type(editor, kDown);
  CHECK(editor.line().empty());
}

TEST_CASE("render() draws the prompt, the line, erases the rest and puts the cursor back",
          "[client][editor]") {
  LineEditor editor;
  editor.set_prompt("> ", 2);
  CHECK(editor.render() == "\r> \x1b[K\r\x1b[2C");
  type(editor, "hi");
  CHECK(editor.render() == "\r> hi\x1b[K\r\x1b[4C");
  type(editor, kLeft);
  CHECK(editor.render() == "\r> hi\x1b[K\r\x1b[3C");
}

TEST_CASE("render() with the cursor in column 0 sends no ESC [ 0 C", "[client][editor]") {
  LineEditor editor;
  CHECK(editor.render() == "\r\x1b[K\r");
  type(editor, "a");
  CHECK(editor.render() == "\ra\x1b[K\r\x1b[1C");
  type(editor, kHome);
  CHECK(editor.render() == "\ra\x1b[K\r");
}

TEST_CASE("render() places the cursor by the prompt's width, not its bytes", "[client][editor]") {
  LineEditor editor;
  const std::string prompt = "\x1b[1;32mme>\x1b[0m ";
  editor.set_prompt(prompt, 4);
  type(editor, "ok");
  CHECK(editor.render() == "\r" + prompt + "ok\x1b[K\r\x1b[6C");
}

TEST_CASE("clear_line() returns to the left edge and erases the line", "[client][editor]") {
  CHECK(LineEditor::clear_line() == "\r\x1b[K");
}

TEST_CASE("render() counts a multibyte character as one column", "[client][editor]") {
  LineEditor editor;
  editor.set_prompt("> ", 2);
  type(editor, "a\xc3\xa9\xe2\x82\xac");  // a, U+00E9, U+20AC: 6 bytes, 3 columns
  CHECK(editor.render() == "\r> a\xc3\xa9\xe2\x82\xac\x1b[K\r\x1b[5C");
  type(editor, kLeft);
  CHECK(editor.render() == "\r> a\xc3\xa9\xe2\x82\xac\x1b[K\r\x1b[4C");
}

TEST_CASE("render() counts columns with wcwidth: wide and zero-width characters", "[client][editor]") {
  const Utf8Locale locale;
  LineEditor editor;
  editor.set_prompt("> ", 2);
  type(editor, "\xe4\xb8\xad\xe6\x96\x87");  // U+4E2D U+6587: two columns each
  CHECK(editor.render() == "\r> \xe4\xb8\xad\xe6\x96\x87\x1b[K\r\x1b[6C");
  type(editor, kLeft);
  CHECK(editor.render() == "\r> \xe4\xb8\xad\xe6\x96\x87\x1b[K\r\x1b[4C");
  editor.clear();
  type(editor, "e\xcc\x81!");  // e, U+0301 (combining acute), !
  CHECK(editor.render() == "\r> e\xcc\x81!\x1b[K\r\x1b[4C");
}

TEST_CASE("render() scrolls a long line sideways to keep the cursor on screen", "[client][editor]") {
  LineEditor editor;
  editor.set_prompt("> ", 2);
  editor.set_columns(10);  // 7 columns for text: the last one stays empty
  type(editor, "abcdef");
  CHECK(editor.render() == "\r> abcdef\x1b[K\r\x1b[8C");
  type(editor, "g");
  CHECK(editor.render() == "\r> bcdefg\x1b[K\r\x1b[8C");
  type(editor, "hijkl");
  CHECK(editor.render() == "\r> ghijkl\x1b[K\r\x1b[8C");
  type(editor, kHome);
  CHECK(editor.render() == "\r> abcdefg\x1b[K\r\x1b[2C");
  type(editor, repeat(kRight, 7));
  CHECK(editor.render() == "\r> bcdefgh\x1b[K\r\x1b[8C");
}

TEST_CASE("render() shows the character under the cursor wherever it is in a long line", "[client][editor]") {
  const std::string text = "abcdefghijklmnopqrstuvwxyz0123456789";
  const std::size_t columns = GENERATE(range<std::size_t>(4, 14));
  LineEditor editor;
  editor.set_prompt("> ", 2);
  editor.set_columns(columns);
  type(editor, text + kHome);
  for (std::size_t cursor = 0; cursor <= text.size(); ++cursor) {
    CAPTURE(columns, cursor);
    REQUIRE(editor.cursor() == cursor);
    const Screen screen = parse_render(editor.render(), "> ");
    CHECK(2 + screen.text.size() <= columns - 1);
    REQUIRE(screen.cursor_column >= 2);
    CHECK(screen.cursor_column <= columns - 1);
    if (screen.text.empty()) {  // only when a single text column is left and the cursor is at the end
      CHECK(cursor == text.size());
      CHECK(screen.cursor_column == 2);
    } else {
      const std::size_t first = text.find(screen.text);
      REQUIRE(first != std::string::npos);
      CHECK(first + (screen.cursor_column - 2) == cursor);
      if (cursor < text.size()) CHECK(screen.cursor_column - 2 < screen.text.size());
    }
    type(editor, kRight);
  }
}

TEST_CASE("render() scrolls by whole wide characters", "[client][editor]") {
  const Utf8Locale locale;
  const std::string wide[] = {"\xe4\xb8\x80", "\xe4\xba\x8c", "\xe4\xb8\x89", "\xe5\x9b\x9b",
                              "\xe4\xba\x94", "\xe5\x85\xad"};  // one to six: two columns each
  std::string all;
  for (const auto& character : wide) all += character;
  LineEditor editor;
  editor.set_columns(10);  // 9 columns for text
  type(editor, all);
  CHECK(editor.render() == "\r" + wide[2] + wide[3] + wide[4] + wide[5] + "\x1b[K\r\x1b[8C");
  type(editor, kHome);
  CHECK(editor.render() == "\r" + wide[0] + wide[1] + wide[2] + wide[3] + "\x1b[K\r");
  type(editor, repeat(kRight, 4));
  CHECK(editor.render() == "\r" + wide[1] + wide[2] + wide[3] + wide[4] + "\x1b[K\r\x1b[6C");
}

TEST_CASE("A masked line renders no characters and keeps the cursor after the prompt", "[client][editor]") {
  LineEditor editor;
  editor.set_prompt("password: ", 10);
  editor.set_masked(true);
  type(editor, "s3cret");
  CHECK(editor.line() == "s3cret");
  CHECK(editor.render() == "\rpassword: \x1b[K\r\x1b[10C");
  type(editor, kLeft);
  CHECK(editor.render() == "\rpassword: \x1b[K\r\x1b[10C");
  CHECK(submitted(type(editor, kEnter)) == Lines{"s3cret"});
  editor.set_masked(false);
  type(editor, "shown");
  CHECK(editor.render() == "\rpassword: shown\x1b[K\r\x1b[15C");
}

TEST_CASE("set_columns(0) is taken as 1", "[client][editor]") {
  LineEditor zero;
  LineEditor one;
  zero.set_columns(0);
  one.set_columns(1);
  type(zero, "abc");
  type(one, "abc");
  CHECK(zero.render() == one.render());
  CHECK(zero.render() == "\r\x1b[K\r");
  type(zero, kHome);  // no room to leave the last column empty: the first character shows
  CHECK(zero.render() == "\ra\x1b[K\r");
}

}  // namespace
}  // namespace uvchat::client
