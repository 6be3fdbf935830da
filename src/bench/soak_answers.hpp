// Which of a user's DMs the server has answered, and how.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "soak_dm_book.hpp"

namespace uvchat::bench {

// The server answers a connection's lines in the order they were sent. A DM
// to an offline user is answered `server:queued NAME`, a refused one
// `server:error CODE NAME`, and one to an online user not at all: it went
// to the recipient's socket. So an answer about NAME belongs to the oldest
// unanswered DM to NAME, and the pong to a ping (or the `bye` to an exit)
// settles every DM sent before it that got no answer as delivered live.
class DmAnswers {
 public:
  void dm_sent(const SoakDm& dm);
  void ping_sent(std::uint64_t now_ms);

  // The oldest DM to `recipient` still waiting for its answer, taken off the
  // list; null when there is none.
  std::optional<SoakDm> take_answered(std::uint32_t recipient);

  struct Settled {
    std::uint64_t ping_sent_ms = 0;
    std::vector<SoakDm> live;
  };
  // For a pong: when its ping went, and the DMs it settles. Null when no
  // ping was waiting.
  std::optional<Settled> take_pong();
  // For a bye: every DM still waiting.
  std::vector<SoakDm> take_all();
  // A session ended without a bye: what was waiting stays unknown.
  std::size_t forget_all();

 private:
  struct Ping {
    std::uint64_t next_sequence = 0;  // the DMs before it are the ones it settles
    std::uint64_t sent_ms = 0;
  };

  std::deque<SoakDm> waiting_;  // oldest first
  std::deque<Ping> pings_;
  std::uint64_t next_sequence_ = 0;  // after the newest DM sent
};

// The server's answer about `recipient_name` (queued, or refused) to the
// oldest DM to it that waits for one, told to the book. False when no DM
// waits for it.
bool settle_answer(DmAnswers& answers, DmBook& book, std::string_view recipient_name, bool queued);

}  // namespace uvchat::bench
