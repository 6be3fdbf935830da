// The classic door (docs/CLASSIC.md): the dialect of a class exercise,
// `JOIN:name`, `MESSAGE:text`, `PRIVATE:user:text`, `JOIN_ROOM:room`,
// `LIST_USERS` and `QUIT`, with `JOINED:`, `USER_JOINED:`, `NAME [HH:MM:SS]:
// text`, `PRIVATE:`, `JOINED_ROOM:`, `USERS:`, `USER_LEFT:` and `ERROR:` back.
//
// The dialect has one current room, where the hub has any number: the codec
// keeps it, and turns `MESSAGE:` into a line to that room (or to everyone
// when there is none) and `JOIN_ROOM:` into leaving it and joining the next.
#pragma once

#include <string>
#include <string_view>

#include "uvchat/door/codec.hpp"
#include "uvchat/protocol/formatter.hpp"

namespace uvchat::door {

// One per connection: it knows whom it speaks for and where they are.
class ClassicCodec final : public Codec {
 public:
  // `settings` outlives the codec (it is the server's).
  explicit ClassicCodec(const Settings& settings);

  void on_frame(const protocol::Frame& frame, CodecSink& sink) override;
  chat::Payload render(const chat::EventRef& event) override;
  // The sender sees their own MESSAGE:, and a newcomer the last lines said
  // to everyone.
  chat::SessionTraits traits() const override;

  // The registered name (from the hub's welcome), empty before.
  const std::string& name() const { return name_; }
  // The current room, without '#', as the user spelled it; empty: none.
  const std::string& room() const { return room_; }

 private:
  void on_line(std::string_view line, CodecSink& sink);
  void on_join_room(std::string_view argument, CodecSink& sink);
  // The lines of an event that are the same for every classic session.
  void render_shared(const chat::Event& event, std::string& lines);

  const Settings& settings_;
  protocol::TimeFormatter times_;
  std::string name_;
  std::string room_;
};

}  // namespace uvchat::door
