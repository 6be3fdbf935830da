// The IRC door (docs/IRC.md): what irssi, WeeChat and HexChat send, as the
// hub's commands; the hub's events, as the lines they expect back.
//
// One codec per connection: IRC is stateful. It keeps the registration in
// progress (NICK, USER, PASS, the CAP negotiation), the capabilities the
// client took, and which form the hub's next list answers take: the hub
// has one `members` answer for NAMES, JOIN and WHO #room, and one `users`
// answer for WHO nick and WHOIS, and answers each session in the order it
// asked, so a queue of the forms asked for tells them apart.
//
// Parsing lives in src/door/irc.cpp, rendering in src/door/irc_render.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/door/codec.hpp"
#include "uvchat/fifo.hpp"
#include "uvchat/protocol/formatter.hpp"

namespace uvchat::door {

class IrcCodec final : public Codec {
 public:
  // The longest line a server sends, CR LF included and IRCv3 tags not
  // (RFC 1459 section 2.3; tags have a budget of their own).
  static constexpr std::size_t kMaxLine = 512;
  // Targets one PRIVMSG, NOTICE, JOIN, PART or NAMES may name (TARGMAX):
  // one line is one token of the flood limit, and should not fan out into
  // a hundred commands for it.
  static constexpr std::size_t kMaxTargets = 10;
  // The capabilities offered, in CAP LS.
  static constexpr std::string_view kCaps = "server-time";

  // `settings` is the server's and outlives the codec.
  explicit IrcCodec(const Settings& settings) : settings_(settings), times_(settings.utc) {}

  void on_frame(const protocol::Frame& frame, CodecSink& sink) override;
  chat::Payload render(const chat::EventRef& event) override;

  // What the codec knows of its client, for tests and logs.
  bool registered() const { return stage_ == Stage::kRegistered; }
  const std::string& nick() const { return nick_; }
  bool server_time() const { return server_time_; }

 private:
  enum class Stage : std::uint8_t {
    kNew,          // collecting NICK, USER, PASS and CAP
    kRegistering,  // the hub was asked to register nick_, and has not answered
    kRegistered,   // the hub said welcome
  };
  enum class MembersForm : std::uint8_t { kNames, kWho };
  // WHO nick or WHOIS nick: the hub answers with everyone online.
  struct UsersQuery {
    bool whois = false;
    std::string mask;  // empty: everyone
  };

  // ---- irc.cpp: lines in ----
  struct Line;
  void on_line(std::string_view text, CodecSink& sink);
  void on_registration(const Line& line, CodecSink& sink);
  void on_cap(const Line& line, CodecSink& sink);
  void on_nick(const Line& line, CodecSink& sink);
  void try_register(CodecSink& sink);
  void on_message(const Line& line, bool notice, CodecSink& sink);
  // The command for one target of a PRIVMSG or NOTICE; none, after a
  // numeric for a PRIVMSG, when the target is not one.
  std::optional<protocol::Command> message_command(std::string_view target, std::string_view text, bool notice,
                                                   CodecSink& sink);
  void on_join(const Line& line, CodecSink& sink);
  void on_part(const Line& line, CodecSink& sink);
  // The rooms a JOIN or PART names, each valid one handed to `each`; an
  // empty list, one too long, or a bad room is answered here.
  template <typename Each>
  void for_each_room(std::string_view command, std::string_view rooms, CodecSink& sink, Each&& each);
  void on_names(const Line& line, CodecSink& sink);
  void on_who(const Line& line, bool whois, CodecSink& sink);
  void on_mode(const Line& line, CodecSink& sink);
  void on_topic(const Line& line, CodecSink& sink);
  // `:server CODE nick PARAMS :TRAILING` for this client, through sink.reply.
  void reply_numeric(CodecSink& sink, std::string_view code, std::initializer_list<std::string_view> params,
                     std::string_view trailing);

  // ---- irc_render.cpp: events out ----
  chat::Payload render_welcome(const chat::Event& event);
  chat::Payload render_error(const chat::Event& event);
  chat::Payload render_members(const chat::Event& event);
  chat::Payload render_users(const chat::Event& event);
  chat::Payload render_rooms(const chat::Event& event);
  void render_chat(const chat::Event& event, std::string& lines);
  void note_membership(const chat::Event& event);
  // Appends `:server CODE nick PARAMS :TRAILING` CR LF to `lines`.
  void numeric(std::string& lines, std::string_view code, std::initializer_list<std::string_view> params,
               std::string_view trailing) const;
  // The same without a trailing parameter (221, 324).
  void numeric_bare(std::string& lines, std::string_view code, std::initializer_list<std::string_view> params) const;
  // The nick numerics are addressed to: `*` until there is one.
  std::string_view client() const;

  const Settings& settings_;
  protocol::TimeFormatter times_;  // the dates put into replayed lines without server-time
  Stage stage_ = Stage::kNew;
  std::string nick_;      // asked for by NICK; once registered, the hub's spelling
  std::string password_;  // from PASS
  bool user_given_ = false;
  bool cap_open_ = false;  // CAP LS or REQ before registration, and no CAP END yet
  bool server_time_ = false;
  // Between the markers around a NOTICE's commands: the hub's errors and
  // `queued` answers are not shown, as no reply may answer a NOTICE.
  bool quiet_ = false;
  // The numeric for the hub's not-in-room: 404 after a PRIVMSG to a room,
  // 442 after a PART. The hub answers it at once, before the next line.
  std::string_view not_in_room_ = "442";
  Fifo<MembersForm> members_forms_;
  Fifo<UsersQuery> users_queries_;
  std::vector<std::string> rooms_;  // the rooms the client is in, for JOIN 0
  std::string scratch_;             // a /me turned into text, during one command
};

namespace irc {

// The markers the codec puts around a NOTICE's commands (sink.reply): no
// client line can hold them, as the framer replaces \x01.
inline constexpr std::string_view kQuietOn = "\x01quiet-on";
inline constexpr std::string_view kQuietOff = "\x01quiet-off";

// `@time=YYYY-MM-DDThh:mm:ss.sssZ ` (IRCv3 server-time), UTC.
std::string time_tag(chat::TimePoint when);

}  // namespace irc

}  // namespace uvchat::door
