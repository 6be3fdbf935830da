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

struct Frame {
  FrameKind kind = FrameKind::kLine;
  std::string_view line;  // only for kLine
};

// One framer per connection; it keeps the state of a line being discarded.
// The rules are those of docs/PROTOCOL.md, section 1.
class Framer {
 public:
  explicit Framer(std::size_t max_line) : max_line_(max_line) {}

  // The ring capacity a connection needs: the longest line and its CR LF.
  static std::size_t buffer_capacity(std::size_t max_line) { return max_line + 2; }

  // Takes the next frame out of `input`; false when no complete line is
  // left. The view in `frame` stays valid until the next call.
  bool next(RingBuffer& input, Frame& frame);

  // At end of input: the bytes after the last LF, as one last line.
  bool finish(RingBuffer& input, Frame& frame);

 private:
  void consume_pending(RingBuffer& input);
  // Classifies a raw line (without its LF); false when it is to be ignored.
  bool take_line(std::string_view raw, Frame& frame);

  std::size_t max_line_;
  bool discarding_ = false;          // inside an over-long line: drop until LF
  std::size_t pending_consume_ = 0;  // bytes of the frame last returned
  std::string wrapped_;              // a line that wrapped around the ring
  std::string cleaned_;              // a line with telnet bytes removed
  std::string printable_;            // a line with control characters replaced
};

// Removes telnet IAC sequences and NUL bytes from `raw` into `out`.
void strip_telnet(std::string_view raw, std::string& out);

}  // namespace uvchat::protocol
