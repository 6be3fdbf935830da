// The native door (docs/PROTOCOL.md): `server:register NAME`, `NAME:text`,
// and the `server:EVENT ...` lines, for nc and telnet.
#pragma once

#include "uvchat/door/codec.hpp"
#include "uvchat/protocol/formatter.hpp"

namespace uvchat::door {

// The hub's command a frame is in the native door: the parsed line, or
// kInvalid with the framer's error (too long, not UTF-8).
protocol::Command native_command(const protocol::Frame& frame);

// No state per connection: one serves them all (and keeps the formatter's
// cache of the last second formatted).
class NativeCodec final : public Codec {
 public:
  NativeCodec(protocol::LineEnding ending, bool utc) : formatter_(ending, utc) {}

  void on_frame(const protocol::Frame& frame, CodecSink& sink) override;
  chat::Payload render(const chat::EventRef& event) override;

  // The lines of `event`, appended to `lines` (empty lines: nothing).
  void render_into(const chat::Event& event, std::string& lines);

 private:
  protocol::Formatter formatter_;
};

}  // namespace uvchat::door
