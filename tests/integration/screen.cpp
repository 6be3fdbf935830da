#include "screen.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace uvchat::test {
namespace {

constexpr unsigned char kEscape = 0x1b;
constexpr int kTabWidth = 8;
// Larger numbers in a CSI sequence are taken as this: no screen is bigger.
constexpr int kLargestNumber = 9999;
const std::string kReplacementCharacter = "\xEF\xBF\xBD";

// The bytes that follow a UTF-8 lead byte, or nothing for a byte that cannot
// start a character.
std::optional<std::size_t> utf8_continuations(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 1;
  if (lead >= 0xE0 && lead <= 0xEF) return 2;
  if (lead >= 0xF0 && lead <= 0xF4) return 3;
  return std::nullopt;
}

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

std::string trimmed_right(std::string text) {
  text.erase(text.find_last_not_of(' ') + 1);
  return text;
}

}  // namespace

Screen::Screen(int rows, int cols)
    : rows_(std::max(rows, 1)), cols_(std::max(cols, 1)), grid_(rows_, Row(cols_)) {}

void Screen::feed(std::string_view bytes) {
  for (const char byte : bytes) feed_byte(static_cast<unsigned char>(byte));
}

void Screen::feed_byte(unsigned char byte) {
  switch (state_) {
    case State::kGround: feed_ground(byte); break;
    case State::kEscape: feed_escape(byte); break;
    case State::kEscapeArgument: state_ = State::kGround; break;  // ESC ( B and the like
    case State::kCsi: feed_csi(byte); break;
    case State::kOsc:
      // An OSC string (a window title, ...) ends at BEL or ESC \.
      if (byte == 0x07) state_ = State::kGround;
      if (byte == kEscape) state_ = State::kOscEscape;
      break;
    case State::kOscEscape: state_ = State::kGround; break;
  }
}

void Screen::feed_ground(unsigned char byte) {
  if (utf8_expected_ > 0) {
    if (is_continuation(byte)) {
      utf8_.push_back(static_cast<char>(byte));
      if (--utf8_expected_ == 0) put(std::move(utf8_));
      return;
    }
    // A character cut short: shown as U+FFFD, and this byte read anew.
    utf8_expected_ = 0;
    put(kReplacementCharacter);
  }
  utf8_.clear();
  if (byte == kEscape) {
    state_ = State::kEscape;
  } else if (byte < 0x20) {
    control(byte);
  } else if (byte < 0x7f) {
    put(std::string(1, static_cast<char>(byte)));
  } else if (byte >= 0x80) {
    feed_utf8(byte);
  }
}

void Screen::feed_utf8(unsigned char lead) {
  const std::optional<std::size_t> continuations = utf8_continuations(lead);
  if (!continuations) {
    put(kReplacementCharacter);
    return;
  }
  utf8_.assign(1, static_cast<char>(lead));
  utf8_expected_ = *continuations;
}

void Screen::feed_escape(unsigned char byte) {
  state_ = State::kGround;
  switch (byte) {
    case '[':
      state_ = State::kCsi;
      csi_bytes_.clear();
      break;
    case ']': state_ = State::kOsc; break;
    case '(':
    case ')':
    case '*':
    case '+':
    case '#':
    case '%': state_ = State::kEscapeArgument; break;
    case '7':
      saved_row_ = row_;
      saved_col_ = col_;
      break;
    case '8': move_to(saved_row_, saved_col_); break;
    case kEscape: state_ = State::kEscape; break;
    default: break;  // other two-byte escapes: ignored
  }
}

void Screen::feed_csi(unsigned char byte) {
  if (byte == kEscape) {
    state_ = State::kEscape;
  } else if (byte == 0x18 || byte == 0x1a) {
    state_ = State::kGround;  // CAN and SUB cancel the sequence
  } else if (byte < 0x20) {
    control(byte);  // as xterm does: a control character inside a sequence acts
  } else if (byte < 0x40) {
    csi_bytes_.push_back(static_cast<char>(byte));
  } else if (byte < 0x7f) {
    state_ = State::kGround;
    run_csi(static_cast<char>(byte));
  }
}

void Screen::control(unsigned char byte) {
  switch (byte) {
    case '\r':
      col_ = 0;
      wrap_pending_ = false;
      break;
    case '\n':
    case '\v':
    case '\f': line_feed(); break;
    case '\b': move_to(row_, col_ - 1); break;
    case '\t': move_to(row_, std::min(cols_ - 1, (col_ / kTabWidth + 1) * kTabWidth)); break;
    default: break;  // BEL and the rest: nothing to see
  }
}

void Screen::put(std::string cell) {
  if (wrap_pending_) {
    col_ = 0;
    line_feed();
  }
  grid_[row_][col_] = std::move(cell);
  if (col_ == cols_ - 1) {
    wrap_pending_ = true;
  } else {
    ++col_;
  }
}

void Screen::line_feed() {
  wrap_pending_ = false;
  if (row_ < rows_ - 1) {
    ++row_;
    return;
  }
  grid_.erase(grid_.begin());
  grid_.emplace_back(cols_);
}

void Screen::move_to(int row, int col) {
  row_ = std::clamp(row, 0, rows_ - 1);
  col_ = std::clamp(col, 0, cols_ - 1);
  wrap_pending_ = false;
}

int Screen::count(std::size_t index, int fallback) const {
  const int number = mode(index);
  return number == 0 ? fallback : number;
}

int Screen::mode(std::size_t index) const { return index < numbers_.size() ? numbers_[index] : 0; }

void Screen::run_csi(char final_byte) {
  // Private (ESC [ ? 25 l) and intermediate-byte sequences change modes we
  // do not model.
  const bool is_private =
      !csi_bytes_.empty() && std::string_view("<=>?").find(csi_bytes_[0]) != std::string::npos;
  const bool has_intermediate =
      std::any_of(csi_bytes_.begin(), csi_bytes_.end(), [](char byte) { return byte < 0x30; });
  if (is_private || has_intermediate) return;

  numbers_.clear();
  std::istringstream fields(csi_bytes_);
  std::string field;
  while (std::getline(fields, field, ';')) {
    int number = 0;
    std::from_chars(field.data(), field.data() + field.size(), number);
    numbers_.push_back(std::clamp(number, 0, kLargestNumber));
  }

  switch (final_byte) {
    case 'A': move_to(row_ - count(0), col_); break;
    case 'B': move_to(row_ + count(0), col_); break;
    case 'C': move_to(row_, col_ + count(0)); break;
    case 'D': move_to(row_, col_ - count(0)); break;
    case 'G': move_to(row_, count(0) - 1); break;
    case 'd': move_to(count(0) - 1, col_); break;
    case 'H':
    case 'f': move_to(count(0) - 1, count(1) - 1); break;
    case 'J': erase_in_display(mode(0)); break;
    case 'K': erase_in_line(mode(0)); break;
    case 'P': delete_characters(count(0)); break;
    case '@': insert_characters(count(0)); break;
    case 'X': blank(row_, col_, col_ + count(0)); break;
    case 's':
      saved_row_ = row_;
      saved_col_ = col_;
      break;
    case 'u': move_to(saved_row_, saved_col_); break;
    default: break;  // SGR (m) and the rest: ignored
  }
}

void Screen::blank(int row, int from_col, int to_col) {
  Row& cells = grid_[row];
  std::fill(cells.begin() + std::clamp(from_col, 0, cols_), cells.begin() + std::clamp(to_col, 0, cols_),
            std::string());
}

void Screen::erase_in_line(int erase_mode) {
  switch (erase_mode) {
    case 0: blank(row_, col_, cols_); break;
    case 1: blank(row_, 0, col_ + 1); break;
    case 2: blank(row_, 0, cols_); break;
    default: break;
  }
}

void Screen::erase_in_display(int erase_mode) {
  const auto blank_rows = [this](int from, int to) {
    for (int row = from; row < to; ++row) blank(row, 0, cols_);
  };
  switch (erase_mode) {
    case 0:
      erase_in_line(0);
      blank_rows(row_ + 1, rows_);
      break;
    case 1:
      erase_in_line(1);
      blank_rows(0, row_);
      break;
    case 2:
    case 3: blank_rows(0, rows_); break;
    default: break;
  }
}

void Screen::delete_characters(int how_many) {
  Row& cells = grid_[row_];
  const int removed = std::min(how_many, cols_ - col_);
  cells.erase(cells.begin() + col_, cells.begin() + col_ + removed);
  cells.resize(cols_);
}

void Screen::insert_characters(int how_many) {
  Row& cells = grid_[row_];
  const int inserted = std::min(how_many, cols_ - col_);
  cells.insert(cells.begin() + col_, inserted, std::string());
  cells.resize(cols_);
}

std::string Screen::line(int row) const {
  if (row < 0 || row >= rows_) return {};
  std::string text;
  for (const std::string& cell : grid_[row]) text += cell.empty() ? " " : cell;
  return trimmed_right(std::move(text));
}

std::vector<std::string> Screen::lines() const {
  std::vector<std::string> result;
  for (int row = 0; row < rows_; ++row) result.push_back(line(row));
  return result;
}

std::string Screen::text() const {
  std::string result;
  for (int row = 0; row < rows_; ++row) {
    if (row > 0) result.push_back('\n');
    result += line(row);
  }
  return result;
}

bool Screen::contains(std::string_view needle) const { return last_row_with(needle).has_value(); }

std::optional<int> Screen::last_row_with(std::string_view needle) const {
  for (int row = rows_ - 1; row >= 0; --row) {
    if (line(row).find(needle) != std::string::npos) return row;
  }
  return std::nullopt;
}

std::string Screen::describe() const {
  int last = row_;
  for (int row = 0; row < rows_; ++row) {
    if (!line(row).empty()) last = std::max(last, row);
  }
  std::ostringstream text;
  text << "the screen (" << rows_ << "x" << cols_ << "), cursor at row " << row_ << ", column " << col_
       << ":\n";
  for (int row = 0; row <= last; ++row) {
    text << (row < 10 ? "   " : "  ") << row << (row == row_ ? ">" : "|") << line(row) << "\n";
  }
  return text.str();
}

}  // namespace uvchat::test
