// A client of the soak that fills the large-queue users' queues.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "soak_answers.hpp"
#include "soak_client.hpp"
#include "soak_timer.hpp"

namespace uvchat::bench {

// Registers and sends DMs of 1 to 4 KB to the large-queue users, as
// QueueFeed says: to one away whose queue is short of its target, batches
// of 16 and a ping, two batches unanswered at a time (as fast as --rate
// lets it); to one online, a DM and a ping every half second, which wait
// behind its replay or go to the store; to none, nothing. Each DM is the
// book's: answered `queued`, refused (`queue-full`), or settled as live by
// the pong after it. After 20 to 60 s it leaves, with `server:exit` or a
// TCP reset (the DMs still unanswered then are forgotten: the server may
// have taken them or not), and is back 1 to 3 s later.
class BulkSender final : public SoakClient {
 public:
  BulkSender(SoakContext& context, std::uint32_t slot);

 private:
  void session_began() override;
  void line_arrived(std::string_view line) override;
  std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override { leave(); }

  void start_sending();
  void top_up();
  void take_error(std::string_view line, std::string_view args);
  void take_answer(std::string_view line, std::string_view recipient_name, bool queued);
  void take_pong();
  void settle_live(const std::vector<SoakDm>& dms);

  const std::uint32_t sender_;  // in the book
  bool sending_ = false;
  std::uint64_t batches_unanswered_ = 0;
  std::uint64_t next_online_ms_ = 0;  // the next DM to a user online, not before
  std::string batch_;
  std::string line_;
  DmAnswers answers_;
  Timer retry_;
};

}  // namespace uvchat::bench
