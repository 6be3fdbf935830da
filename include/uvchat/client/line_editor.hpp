// The client's line editor: what a person types at a terminal in raw mode
// goes in as bytes, edits one line (with history), and comes out as the
// terminal output that shows it. Pure: no terminal, no I/O, so every key is
// unit-tested. The shell (src/client) writes render() after each feed, and
// clear_line() + a message + render() to print a line above the prompt.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uvchat::client {

enum class EditorEvent {
  kSubmit,      // Enter: `line` is the text typed (not trimmed)
  kEndOfInput,  // Ctrl-D on an empty line
  kInterrupt,   // Ctrl-C
};

struct EditorResult {
  EditorEvent event;
  std::string line;  // for kSubmit
};

class LineEditor {
 public:
  explicit LineEditor(std::size_t history_limit = 500);

  // Bytes typed, as many or as few as a read gives: an escape sequence or
  // a UTF-8 character split across two feeds is put together. Returns what
  // happened, in order; after a kSubmit the line is empty again, and the
  // line is in the history (unless masked or empty, or the same as the
  // last one).
  //
  // Keys: printable characters (UTF-8) insert at the cursor; Enter (CR or
  // LF; CR LF counts once) submits; Backspace (DEL or Ctrl-H), Delete
  // (ESC [ 3 ~); Left, Right (ESC [ D / C, ESC O D / C); Home (ESC [ H,
  // ESC [ 1 ~, ESC O H, Ctrl-A), End (ESC [ F, ESC [ 4 ~, ESC O F, Ctrl-E);
  // Up, Down (ESC [ A / B, ESC O A / B): older and newer lines of the history, the line
  // being typed kept as the newest; Ctrl-U deletes to the start, Ctrl-K to
  // the end, Ctrl-W the word before the cursor; Ctrl-D deletes at the
  // cursor, or on an empty line is kEndOfInput; Ctrl-C is kInterrupt (the
  // line is kept). Other control characters and unknown escape sequences
  // are ignored. Bytes that are not UTF-8 are ignored.
  std::vector<EditorResult> feed(std::string_view bytes);

  // `prompt` may hold colour (SGR) sequences; `width` is the columns it
  // takes on screen.
  void set_prompt(std::string prompt, std::size_t width);
  // The terminal's width in columns (at least 1; the default is 80).
  void set_columns(std::size_t columns);
  // Masked (a password): nothing typed is shown, and nothing is kept in
  // the history.
  void set_masked(bool masked);
  // Forgets the line being typed (not the history).
  void clear();

  // Terminal output that draws the prompt line from its start: CR, the
  // prompt, the part of the line that fits, erase to the end of the screen
  // line (ESC [ K), and the cursor put back where it is in the line (CR
  // then ESC [ N C). A line wider than the terminal scrolls sideways so
  // that the cursor is always on screen. Columns are counted with
  // wcwidth() for characters beyond ASCII (1 where it does not know).
  std::string render() const;
  // Output that empties the prompt line, so that a message printed next
  // starts at its left edge: CR, ESC [ K.
  static std::string clear_line();

  const std::string& line() const { return line_; }
  std::size_t cursor() const { return cursor_; }  // a byte offset into line()

 private:
  std::optional<EditorResult> feed_byte(unsigned char byte);
  std::optional<EditorResult> start_key(unsigned char byte);
  std::optional<EditorResult> control_key(unsigned char byte);
  bool continue_escape(unsigned char byte);  // false: `byte` ends it unfinished
  bool continue_utf8(unsigned char byte);    // false: `byte` ends it unfinished
  void escape_sequence(std::string_view sequence);
  EditorResult submit();
  void remember(const std::string& line);
  void insert(std::string_view text);
  void erase(std::size_t from, std::size_t to);
  void history_older();
  void history_newer();
  void show(const std::string& text);

  std::string line_;
  std::size_t cursor_ = 0;
  std::string prompt_;
  std::size_t prompt_width_ = 0;
  std::size_t columns_ = 80;
  bool masked_ = false;
  std::string pending_;  // an escape sequence or UTF-8 character not yet whole
  // A CR was the last byte: a LF now belongs to the same Enter.
  bool after_carriage_return_ = false;
  std::deque<std::string> history_;
  std::size_t history_limit_;
  std::size_t history_index_ = 0;  // == history_.size(): the line being typed
  std::string draft_;              // the line being typed, while in the history
};

}  // namespace uvchat::client
