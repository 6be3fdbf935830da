#include "uvchat/client/line_editor.hpp"

#include <algorithm>
#include <cwchar>
#include <utility>

namespace uvchat::client {
namespace {

constexpr unsigned char kCtrlA = 0x01;
constexpr unsigned char kCtrlC = 0x03;
constexpr unsigned char kCtrlD = 0x04;
constexpr unsigned char kCtrlE = 0x05;
constexpr unsigned char kCtrlH = 0x08;
constexpr unsigned char kCtrlK = 0x0B;
constexpr unsigned char kCtrlU = 0x15;
constexpr unsigned char kCtrlW = 0x17;
constexpr unsigned char kEscape = 0x1B;
constexpr unsigned char kDelete = 0x7F;

// Longer CSI sequences are still read to their end, but only this much is
// kept: none of the keys the editor knows is anywhere near as long.
constexpr std::size_t kMaxEscapeLength = 16;

constexpr bool is_printable_ascii(unsigned char byte) { return byte >= 0x20 && byte < 0x7F; }
constexpr bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// The bytes of the UTF-8 sequence that `lead` starts; 0 when it starts none.
constexpr std::size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

unsigned char byte_at(std::string_view text, std::size_t at) { return static_cast<unsigned char>(text[at]); }

// `sequence`: a lead byte and as many continuation bytes as it asks for.
char32_t decode(std::string_view sequence) {
  static constexpr unsigned char kLeadBits[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  char32_t code_point = byte_at(sequence, 0) & kLeadBits[sequence.size()];
  for (std::size_t i = 1; i < sequence.size(); ++i)
    code_point = (code_point << 6) | (byte_at(sequence, i) & 0x3F);
  return code_point;
}

// Overlong forms, surrogates and code points past U+10FFFF are not UTF-8;
// C1 controls (U+0080 to U+009F) are, but they are keys nobody types.
bool is_insertable(char32_t code_point, std::size_t length) {
  static constexpr char32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length]) return false;
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;
  return code_point >= 0xA0 && code_point <= 0x10FFFF;
}

// The line holds only whole, valid UTF-8 characters, so boundaries are found
// by skipping continuation bytes.
std::size_t next_boundary(std::string_view line, std::size_t at) {
  if (at >= line.size()) return line.size();
  return at + sequence_length(byte_at(line, at));
}

std::size_t previous_boundary(std::string_view line, std::size_t at) {
  if (at == 0) return 0;
  do --at;
  while (at > 0 && is_continuation(byte_at(line, at)));
  return at;
}

// The start of the word before `at`: back over spaces, then over the rest.
std::size_t word_start_before(std::string_view line, std::size_t at) {
  while (at > 0 && line[at - 1] == ' ') --at;
  while (at > 0 && line[at - 1] != ' ') --at;
  return at;
}

std::size_t column_width(char32_t code_point) {
  if (code_point < 0x80) return 1;  // the line holds no ASCII control
  const int width = ::wcwidth(static_cast<wchar_t>(code_point));
  return width < 0 ? 1 : static_cast<std::size_t>(width);
}

std::size_t width_at(std::string_view line, std::size_t at) {
  const std::size_t end = next_boundary(line, at);
  return column_width(decode(line.substr(at, end - at)));
}

std::size_t columns_between(std::string_view line, std::size_t from, std::size_t to) {
  std::size_t columns = 0;
  for (std::size_t at = from; at < to; at = next_boundary(line, at)) columns += width_at(line, at);
  return columns;
}

// The first byte shown: as far left as leaves room for the cursor's cell
// (the character under it, or a blank at the end of the line).
std::size_t first_visible(std::string_view line, std::size_t cursor, std::size_t text_columns) {
  const std::size_t cursor_cell = cursor < line.size() ? std::max<std::size_t>(width_at(line, cursor), 1) : 1;
  std::size_t before_cursor = columns_between(line, 0, cursor);
  std::size_t first = 0;
  while (first < cursor && before_cursor + cursor_cell > text_columns) {
    before_cursor -= width_at(line, first);
    first = next_boundary(line, first);
  }
  return first;
}

// The end of what fits in `text_columns` from `first` on.
std::size_t end_visible(std::string_view line, std::size_t first, std::size_t text_columns) {
  std::size_t used = 0;
  std::size_t end = first;
  while (end < line.size() && used + width_at(line, end) <= text_columns) {
    used += width_at(line, end);
    end = next_boundary(line, end);
  }
  return end;
}

}  // namespace

LineEditor::LineEditor(std::size_t history_limit) : history_limit_(history_limit) {}

std::vector<EditorResult> LineEditor::feed(std::string_view bytes) {
  std::vector<EditorResult> results;
  for (const char byte : bytes) {
    if (auto result = feed_byte(static_cast<unsigned char>(byte))) results.push_back(std::move(*result));
  }
  return results;
}

std::optional<EditorResult> LineEditor::feed_byte(unsigned char byte) {
  const bool ends_crlf = after_carriage_return_ && byte == '\n';
  after_carriage_return_ = false;
  if (ends_crlf) return std::nullopt;
  if (!pending_.empty()) {
    const bool taken = byte_at(pending_, 0) == kEscape ? continue_escape(byte) : continue_utf8(byte);
    if (taken) return std::nullopt;
    pending_.clear();  // cut short: dropped, and `byte` starts afresh
  }
  return start_key(byte);
}

std::optional<EditorResult> LineEditor::start_key(unsigned char byte) {
  if (byte == kEscape || sequence_length(byte) > 1) {
    pending_.assign(1, static_cast<char>(byte));
    return std::nullopt;
  }
  if (is_printable_ascii(byte)) {
    insert(std::string(1, static_cast<char>(byte)));
    return std::nullopt;
  }
  if (byte < 0x80) return control_key(byte);
  return std::nullopt;  // a byte no UTF-8 character starts with
}

std::optional<EditorResult> LineEditor::control_key(unsigned char byte) {
  switch (byte) {
    case '\r': after_carriage_return_ = true; return submit();
    case '\n': return submit();
    case kCtrlC: return EditorResult{EditorEvent::kInterrupt, {}};
    case kCtrlD:
      if (line_.empty()) return EditorResult{EditorEvent::kEndOfInput, {}};
      erase(cursor_, next_boundary(line_, cursor_));
      break;
    case kCtrlA: cursor_ = 0; break;
    case kCtrlE: cursor_ = line_.size(); break;
    case kCtrlH:
    case kDelete: erase(previous_boundary(line_, cursor_), cursor_); break;
    case kCtrlU: erase(0, cursor_); break;
    case kCtrlK: erase(cursor_, line_.size()); break;
    case kCtrlW: erase(word_start_before(line_, cursor_), cursor_); break;
    default: break;
  }
  return std::nullopt;
}

bool LineEditor::continue_escape(unsigned char byte) {
  if (pending_.size() == 1) {
    if (byte == '[' || byte == 'O') {
      pending_ += static_cast<char>(byte);
      return true;
    }
    // ESC and a printable character is Alt with a key: not one of ours.
    if (!is_printable_ascii(byte)) return false;
    pending_.clear();
    return true;
  }
  if (byte >= 0x20 && byte <= 0x3F) {  // parameters and intermediates
    if (pending_.size() < kMaxEscapeLength) pending_ += static_cast<char>(byte);
    return true;
  }
  if (byte < 0x40 || byte > 0x7E) return false;
  pending_ += static_cast<char>(byte);
  const std::string sequence = std::exchange(pending_, {});
  escape_sequence(std::string_view(sequence).substr(1));
  return true;
}

bool LineEditor::continue_utf8(unsigned char byte) {
  if (!is_continuation(byte)) return false;
  pending_ += static_cast<char>(byte);
  const std::size_t length = sequence_length(byte_at(pending_, 0));
  if (pending_.size() < length) return true;
  if (is_insertable(decode(pending_), length)) insert(pending_);
  pending_.clear();
  return true;
}

// `sequence`: what follows the ESC.
void LineEditor::escape_sequence(std::string_view sequence) {
  if (sequence == "[D" || sequence == "OD") {
    cursor_ = previous_boundary(line_, cursor_);
  } else if (sequence == "[C" || sequence == "OC") {
    cursor_ = next_boundary(line_, cursor_);
  } else if (sequence == "[H" || sequence == "[1~" || sequence == "OH") {
    cursor_ = 0;
  } else if (sequence == "[F" || sequence == "[4~" || sequence == "OF") {
    cursor_ = line_.size();
  } else if (sequence == "[3~") {
    erase(cursor_, next_boundary(line_, cursor_));
  } else if (sequence == "[A" || sequence == "OA") {
    history_older();
  } else if (sequence == "[B" || sequence == "OB") {
    history_newer();
  }
}

EditorResult LineEditor::submit() {
  EditorResult result{EditorEvent::kSubmit, line_};
  if (!masked_) remember(line_);
  clear();
  return result;
}

void LineEditor::remember(const std::string& line) {
  if (line.empty() || history_limit_ == 0) return;
  if (!history_.empty() && history_.back() == line) return;
  history_.push_back(line);
  while (history_.size() > history_limit_) history_.pop_front();
}

void LineEditor::insert(std::string_view text) {
  line_.insert(cursor_, text);
  cursor_ += text.size();
}

void LineEditor::erase(std::size_t from, std::size_t to) {
  line_.erase(from, to - from);
  cursor_ = from;
}

// A password field does not walk the history: an old chat line would be
// sent, unseen, as the password.
void LineEditor::history_older() {
  if (masked_ || history_index_ == 0) return;
  if (history_index_ == history_.size()) draft_ = line_;
  --history_index_;
  show(history_[history_index_]);
}

void LineEditor::history_newer() {
  if (masked_ || history_index_ >= history_.size()) return;
  ++history_index_;
  show(history_index_ == history_.size() ? draft_ : history_[history_index_]);
}

void LineEditor::show(const std::string& text) {
  line_ = text;
  cursor_ = line_.size();
}

void LineEditor::set_prompt(std::string prompt, std::size_t width) {
  prompt_ = std::move(prompt);
  prompt_width_ = width;
}

void LineEditor::set_columns(std::size_t columns) { columns_ = std::max<std::size_t>(columns, 1); }

void LineEditor::set_masked(bool masked) { masked_ = masked; }

void LineEditor::clear() {
  line_.clear();
  cursor_ = 0;
  draft_.clear();
  history_index_ = history_.size();
}

std::string LineEditor::render() const {
  // The last column stays empty: a character written there leaves many
  // terminals waiting to wrap, and the ESC [ K after it would erase it.
  const std::size_t text_columns = columns_ > prompt_width_ + 1 ? columns_ - prompt_width_ - 1 : 1;
  std::string out = "\r" + prompt_;
  std::size_t cursor_column = prompt_width_;
  if (!masked_) {
    const std::size_t first = first_visible(line_, cursor_, text_columns);
    out.append(line_, first, end_visible(line_, first, text_columns) - first);
    cursor_column += columns_between(line_, first, cursor_);
  }
  out += "\x1b[K\r";
  if (cursor_column > 0) out += "\x1b[" + std::to_string(cursor_column) + "C";
  return out;
}

std::string LineEditor::clear_line() { return "\r\x1b[K"; }

}  // namespace uvchat::client
