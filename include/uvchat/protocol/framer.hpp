// Turns the bytes in a connection's ring buffer into protocol lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::protocol {

enum class FrameKind {
  kLine,     // a clean line: valid UTF-8, no telnet bytes, no controls
  kTooLong,  // a line over max_line was (or is being) discarded
  kBadUtf8,  // a line that was not UTF-8 was discarded
};

// One frame out of a Framer. `line` points into the ring, or, for a line that
// wrapped around the ring or had to be cleaned, into the frame's own
// scratch. So the scratch lives with the caller for as long as it looks at
// the line, and not in every connection's framer; and a Frame is not copied,
// which would leave the copy's view in the original's scratch.
struct Frame {
  FrameKind kind = FrameKind::kLine;
  std::string_view line;  // only for kLine

  Frame() = default;
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

 private:
  friend class Framer;
  void set(FrameKind new_kind, std::string_view new_line = {}) {
    kind = new_kind;
    line = new_line;
  }
  // The scratch string that `in_use` does not point into.
  std::string& spare(std::string_view in_use) { return in_use.data() == scratch_[0].data() ? scratch_[1] : scratch_[0]; }

  std::string scratch_[2];
};

// One framer per connection; it keeps the state of a line being discarded.
// The rules are those of docs/PROTOCOL.md, section 1. The longest line is
// told by the ring: its capacity is buffer_capacity(max_line).
class Framer {
 public:
  // The ring capacity a connection needs: the longest line and its CR LF.
  static std::size_t buffer_capacity(std::size_t max_line) { return max_line + 2; }
  static std::size_t max_line(const RingBuffer& input) { return input.capacity() - 2; }

  // Takes the next frame out of `input`; false when no complete line is
  // left. The view in `frame` stays valid until the next call, and as long
  // as `frame` lives.
  bool next(RingBuffer& input, Frame& frame);

  // At end of input: the bytes after the last LF, as one last line.
  bool finish(RingBuffer& input, Frame& frame);

  // From now on blank lines are frames too, instead of ignored: HTTP ends
  // a request's headers with one (the web door).
  void keep_blank_lines() { keep_blank_ = true; }
  // Consumes the frame last returned, now rather than at the next call:
  // the bytes after it are no longer lines (a WebSocket's frames follow).
  void drop_taken(RingBuffer& input) { consume_pending(input); }

 private:
  void consume_pending(RingBuffer& input);
  // Classifies a raw line (without its LF); false when it is to be ignored.
  bool take_line(std::string_view raw, std::size_t max_line, Frame& frame);
  std::string_view peek_line(RingBuffer& input, std::size_t length, Frame& frame);

  bool discarding_ = false;          // inside an over-long line: drop until LF
  bool keep_blank_ = false;
  std::size_t pending_consume_ = 0;  // bytes of the frame last returned
};

// Removes telnet IAC sequences and NUL bytes from `raw` into `out`.
void strip_telnet(std::string_view raw, std::string& out);

}  // namespace uvchat::protocol
