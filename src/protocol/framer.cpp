#include "uvchat/protocol/framer.hpp"

#include "uvchat/protocol/text.hpp"

namespace uvchat::protocol {
namespace {

constexpr unsigned char kIac = 0xFF;
constexpr unsigned char kSb = 0xFA;  // sub-negotiation begins
constexpr unsigned char kSe = 0xF0;  // sub-negotiation ends
constexpr unsigned char kWill = 0xFB;
constexpr unsigned char kDont = 0xFE;

bool needs_telnet_strip(std::string_view raw) {
  return raw.find(static_cast<char>(kIac)) != std::string_view::npos ||
         raw.find('\0') != std::string_view::npos;
}

std::string_view without_trailing_cr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

void strip_telnet(std::string_view raw, std::string& out) {
  out.clear();
  const auto at = [&](std::size_t i) { return static_cast<unsigned char>(raw[i]); };
  std::size_t i = 0;
  while (i < raw.size()) {
    const unsigned char byte = at(i);
    if (byte == 0) {
      ++i;
    } else if (byte != kIac) {
      out.push_back(raw[i++]);
    } else if (i + 1 >= raw.size()) {
      ++i;
    } else if (at(i + 1) == kSb) {
      // Skip to just past IAC SE, or to the end of the line.
      std::size_t j = i + 2;
      while (j + 1 < raw.size() && !(at(j) == kIac && at(j + 1) == kSe)) ++j;
      i = (j + 1 < raw.size()) ? j + 2 : raw.size();
    } else if (at(i + 1) >= kWill && at(i + 1) <= kDont) {
      i += 3;  // IAC WILL/WONT/DO/DONT option
    } else {
      // IAC and one command byte; IAC IAC (a data byte 255) goes too, as it
      // can never be part of UTF-8 text.
      i += 2;
    }
  }
}

void Framer::consume_pending(RingBuffer& input) {
  input.consume(pending_consume_);
  pending_consume_ = 0;
}

bool Framer::next(RingBuffer& input, Frame& frame) {
  consume_pending(input);
  for (;;) {
    const std::size_t newline = input.find('\n');
    if (newline == RingBuffer::npos) {
      if (!input.full()) return false;
      // A full ring with no LF holds a line that is too long: drop what is
      // there and everything up to the next LF, reporting it once.
      input.clear();
      if (discarding_) return false;
      discarding_ = true;
      frame.set(FrameKind::kTooLong);
      return true;
    }
    pending_consume_ = newline + 1;
    if (discarding_) {
      discarding_ = false;
      consume_pending(input);
      continue;
    }
    if (take_line(peek_line(input, newline, frame), max_line(input), frame)) return true;
    consume_pending(input);
  }
}

bool Framer::finish(RingBuffer& input, Frame& frame) {
  consume_pending(input);
  if (discarding_ || input.empty()) {
    input.clear();
    return false;
  }
  pending_consume_ = input.size();
  if (take_line(peek_line(input, input.size(), frame), max_line(input), frame)) return true;
  consume_pending(input);
  return false;
}

// A line that wrapped around the ring is copied into the frame's scratch.
std::string_view Framer::peek_line(RingBuffer& input, std::size_t length, Frame& frame) {
  return input.peek(length, frame.scratch_[0]);
}

bool Framer::take_line(std::string_view raw, std::size_t max_line, Frame& frame) {
  if (without_trailing_cr(raw).size() > max_line) {
    frame.set(FrameKind::kTooLong);
    return true;
  }
  // Most lines: one pass instead of the four below.
  if (const std::string_view plain = without_trailing_cr(raw); is_printable_ascii(plain)) {
    if (is_blank(plain) && !keep_blank_) return false;
    frame.set(FrameKind::kLine, plain);
    return true;
  }
  std::string_view line = raw;
  if (needs_telnet_strip(line)) {
    std::string& cleaned = frame.spare(line);
    strip_telnet(line, cleaned);
    line = cleaned;
  }
  line = without_trailing_cr(line);
  if (is_blank(line) && !keep_blank_) return false;
  if (!is_valid_utf8(line)) {
    frame.set(FrameKind::kBadUtf8);
    return true;
  }
  if (has_controls(line)) {
    std::string& printable = frame.spare(line);
    printable.clear();
    append_without_controls(line, printable);
    line = printable;
  }
  frame.set(FrameKind::kLine, line);
  return true;
}

}  // namespace uvchat::protocol
