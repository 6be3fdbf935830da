// The server's side of the doors: a connection's first line picks its
// codec (door.hpp), every line goes through that codec to the hub, and
// every event the hub sends the session comes back through it as bytes.
#include <memory>
#include <string>

#include "uvchat/door/classic.hpp"
#include "uvchat/door/irc.hpp"
#include "uvchat/door/web.hpp"
#include "uvchat/net/server.hpp"
#include "uvchat/protocol/door.hpp"

namespace uvchat::net {
namespace {

// What a codec makes of a line, handed to the hub as it comes.
class HubSink final : public door::CodecSink {
 public:
  HubSink(chat::Hub& hub, chat::SessionId id, protocol::TimePoint now, chat::Effects& out)
      : hub_(hub), id_(id), now_(now), out_(out) {}

  void command(const protocol::Command& command) override { hub_.handle(id_, command, now_, out_); }
  void reply(std::string lines) override { hub_.reply(id_, std::move(lines), out_); }
  void upgrade() override { upgraded = true; }

  bool upgraded = false;

 private:
  chat::Hub& hub_;
  chat::SessionId id_;
  protocol::TimePoint now_;
  chat::Effects& out_;
};

}  // namespace

void Server::take_frame(Connection& connection, const protocol::Frame& frame, protocol::TimePoint now) {
  if (!connection.door_picked()) {
    pick_door(connection, frame.kind == protocol::FrameKind::kLine ? protocol::door_of_line(frame.line)
                                                                   : protocol::Door::kNative);
  }
  HubSink sink(hub_, connection.id(), now, effects_);
  connection.codec().on_frame(frame, sink);
  if (sink.upgraded) {
    connection.start_websocket();
    hub_.set_traits(connection.id(), connection.codec().traits());
  }
}

// A browser's first line may be longer than --max-line (a long query), and
// the framer drops such a line unseen: its first bytes pick the door before
// it is framed, so that it is refused with 414 in HTTP's words.
void Server::sniff_web(Connection& connection) {
  if (!config_.web_door || connection.input().size() < 5) return;
  std::string scratch;
  if (protocol::starts_web_request(connection.input().peek(5, scratch))) pick_door(connection, protocol::Door::kWeb);
}

// A line that is no other open door's is the native protocol's, and so is
// a first line the framer refused. The hub hears what the door asks of it
// before the line that picked it.
void Server::pick_door(Connection& connection, protocol::Door door) {
  if (door == protocol::Door::kIrc && config_.irc_door) {
    connection.pick_door(std::make_unique<door::IrcCodec>(door_settings_));
  } else if (door == protocol::Door::kClassic && config_.classic_door) {
    connection.pick_door(std::make_unique<door::ClassicCodec>(door_settings_));
  } else if (door == protocol::Door::kWeb && config_.web_door) {
    connection.pick_door(std::make_unique<door::WebCodec>(door_settings_, native_codec()));
    connection.framer().keep_blank_lines();  // HTTP ends its headers with one
  } else {
    connection.pick_native_door();
  }
  hub_.set_traits(connection.id(), connection.codec().traits());
}

void Server::send_event(Connection& connection, chat::Effect& effect) {
  chat::Payload bytes = connection.codec().render(effect.event);
  if (bytes) connection.send(std::move(bytes), effect.message_id);
}

}  // namespace uvchat::net
