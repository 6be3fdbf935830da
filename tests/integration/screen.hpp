// A tiny terminal model for the tests of the client: fed the bytes a program
// writes to its terminal, it keeps the grid of characters and the cursor, as
// an xterm would show them.
//
// What it understands: printable UTF-8 (one cell per code point), CR, LF
// (down a row, scrolling at the bottom; the column is kept, as on a real
// terminal: a program that turned off the terminal's LF -> CR LF must write
// CR itself), BS, TAB, and the CSI sequences ESC [ N A/B/C/D (cursor moves),
// G (to column), H/f (to row and column), d (to row), J (erase in display), K
// (erase in line), P/@ (delete/insert characters), X (erase characters). SGR
// (ESC [ ... m), private modes (ESC [ ? ... h/l), other CSI sequences, OSC
// strings and two-byte escapes are read and ignored. A sequence or a
// character split across two feed() calls is put together. Writing past
// the last column wraps to the next row.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uvchat::test {

class Screen {
 public:
  explicit Screen(int rows = 24, int cols = 80);

  void feed(std::string_view bytes);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  // 0-based.
  int cursor_row() const { return row_; }
  int cursor_col() const { return col_; }

  // One row, trimmed on the right.
  std::string line(int row) const;
  // Every row, each trimmed on the right.
  std::vector<std::string> lines() const;
  // lines() joined by LF.
  std::string text() const;
  // True when one row holds `needle`.
  bool contains(std::string_view needle) const;
  // The last (lowest) row that holds `needle`, or nothing.
  std::optional<int> last_row_with(std::string_view needle) const;
  // The rows up to the last that is not blank, numbered, and the cursor:
  // for assertion messages.
  std::string describe() const;

 private:
  enum class State { kGround, kEscape, kEscapeArgument, kCsi, kOsc, kOscEscape };
  // A cell holds one code point, as UTF-8; empty when blank.
  using Row = std::vector<std::string>;

  void feed_byte(unsigned char byte);
  void feed_ground(unsigned char byte);
  void feed_escape(unsigned char byte);
  void feed_csi(unsigned char byte);
  void feed_utf8(unsigned char byte);
  void control(unsigned char byte);
  void put(std::string cell);
  void line_feed();
  void run_csi(char final_byte);
  // The `index`th number of the CSI sequence, or `fallback` when it is
  // missing or 0.
  int count(std::size_t index, int fallback = 1) const;
  // The `index`th number of the CSI sequence, 0 when it is missing.
  int mode(std::size_t index) const;
  void erase_in_line(int mode);
  void erase_in_display(int mode);
  void blank(int row, int from_col, int to_col);
  void delete_characters(int how_many);
  void insert_characters(int how_many);
  void move_to(int row, int col);

  int rows_;
  int cols_;
  std::vector<Row> grid_;
  int row_ = 0;
  int col_ = 0;
  int saved_row_ = 0;
  int saved_col_ = 0;
  // The last column was written: the next character goes on the next row.
  bool wrap_pending_ = false;

  State state_ = State::kGround;
  std::string csi_bytes_;     // between ESC [ and the final byte
  std::vector<int> numbers_;  // csi_bytes_ read as N;N;...
  std::string utf8_;          // a character not yet whole
  std::size_t utf8_expected_ = 0;
};

}  // namespace uvchat::test
