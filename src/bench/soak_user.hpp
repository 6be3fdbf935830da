// A well-behaved user of the soak.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "soak_answers.hpp"
#include "soak_identity.hpp"

namespace uvchat::bench {

// Chats as a person would, a line every second or so: DMs to the other
// identities (online or not), lines to its rooms, now and then a broadcast,
// a history query or a question about the server, and pings. A ping follows
// each DM, so that the answer to each is known (see DmAnswers), and every
// pong measures how promptly the server answers. After 10 to 60 s it leaves with `server:exit` and
// comes back a few seconds later. It reads everything at once, sends only
// valid lines, and expects no error but a refused DM and no disconnection
// it did not ask for.
class SoakUser final : public IdentityClient {
 public:
  SoakUser(SoakContext& context, std::uint32_t slot);

 private:
  void soak_registered() override;
  void soak_event(std::string_view line, const ServerEvent& event) override;
  std::uint64_t soak_session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override { leave(); }

  void join_rooms();
  void act_later();
  void act();
  void send_dm();
  void send_room_line();
  void send_broadcast();
  void send_ping();
  void ask_history();
  void ask_about_server();

  void take_error(std::string_view line, std::string_view args);
  void take_answer(std::string_view line, std::string_view recipient_name, bool queued);
  void take_pong();
  void settle_live(const std::vector<SoakDm>& dms);

  DmAnswers answers_;
  std::vector<std::string_view> rooms_;  // joined this session
  std::uint64_t leave_at_ms_ = 0;
  std::uint64_t lines_said_ = 0;
  std::string line_;
};

}  // namespace uvchat::bench
