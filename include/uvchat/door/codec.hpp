// A door's codec: its lines in, the hub's commands out; the hub's events
// in, its lines out. Pure: no socket, no clock but the events' own times.
//
// Each connection has one codec, picked by its first line (door.hpp). The
// native codec has no state of its own, and one serves every native
// connection; the IRC and classic codecs keep a little per connection
// (the nick, the capabilities, the current room).
//
// Rendering shares: an event sent to many sessions is rendered once per
// style (render_once, chat/event.hpp), so a room line costs one format for
// all its native members and one for all its IRC members. Lines that name
// the session they go to (an IRC numeric carries the client's nick) are
// rendered per session, and only answers to one session are.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/chat/event.hpp"
#include "uvchat/protocol/command.hpp"
#include "uvchat/protocol/framer.hpp"

namespace uvchat::protocol {
class WebSocketReader;
}  // namespace uvchat::protocol

namespace uvchat::door {

// The slots of an event's render cache (chat::kRenderStyles of them).
enum Style : std::size_t {
  kNativeStyle = 0,
  kClassicStyle = 1,
  kIrcStyle = 2,
  kIrcTaggedStyle = 3,  // IRC with server-time
  // The web door: a style above, framed for a WebSocket, at that style
  // plus kWebStyles.
  kWebStyles = 4,
};

// What the doors are told of the server, the same for every connection
// (the server's; it outlives them).
struct Settings {
  bool utc = false;  // times a door writes into text: UTC, or the server's local time
  std::size_t max_line = 4096;
  // IRC: the server's name (prefixes, 001-004), the network's (005), and
  // the version shown in 002 and 004.
  std::string server_name = "uvchat";
  std::string network = "uvchat";
  std::string version = "uvchat";
  int history_on_join = 10;  // the classic door's last N lines at JOIN:
  // The web door: origins besides the server's own whose pages may open
  // its WebSocket ("https://chat.example.org"), and whether web IRC
  // clients may (the IRC door is open).
  std::vector<std::string> web_origins{};
  bool web_irc = true;
};

// Where a codec puts what a line meant.
class CodecSink {
 public:
  // A command for the hub. Its views need to live only through the call.
  virtual void command(const protocol::Command& command) = 0;
  // Lines the codec answers by itself (an IRC PONG, the CAP LS list): they
  // go through the hub, so that they keep their place among its answers.
  virtual void reply(std::string lines) = 0;
  // The connection's bytes are WebSocket frames from the next byte after
  // this line on (the web door answered 101 Switching Protocols).
  virtual void upgrade() {}

 protected:
  ~CodecSink() = default;
};

class Codec {
 public:
  virtual ~Codec() = default;

  // One frame from the client: a whole line, or one too long or not UTF-8.
  virtual void on_frame(const protocol::Frame& frame, CodecSink& sink) = 0;
  // The event in this door's lines; null when the door shows nothing of it.
  virtual chat::Payload render(const chat::EventRef& event) = 0;
  // What the hub is to do differently for this door's sessions
  // (Hub::set_traits): echo a user's own room and broadcast lines, replay
  // the last lines said to everyone at registration.
  virtual chat::SessionTraits traits() const { return {}; }
  // Where the connection's next frames come from once its bytes are no
  // longer lines (the web door's WebSocket); null while they are.
  virtual protocol::WebSocketReader* websocket() { return nullptr; }
  // Whether each line takes a token of the flood limit (--rate, --burst).
  // Chat lines do; an HTTP request's header lines, bounded per request,
  // would slow a browser fetching the page's files.
  virtual bool metered() const { return true; }
};

}  // namespace uvchat::door
