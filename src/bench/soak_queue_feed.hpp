// Which large-queue users the bulk senders send DMs to.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace uvchat::bench {

class DmBook;

// A large-queue user (soak-q-N) is away while its queue grows, then reads
// it. While it is away and its queue is short of the size it wants, the
// bulk senders send it DMs as fast as the server takes them; while it is
// online, now and then one, which waits behind its replay or goes to the
// store. The queue's size is the book's count of DMs to it not yet read, an
// upper bound of what the server holds for it.
class QueueFeed {
 public:
  QueueFeed(const DmBook& book, std::uint32_t large_queue_users);

  // Away until further notice: DMs until `queue_target` are unread.
  void away(std::uint32_t slot, std::uint64_t queue_target);
  void online(std::uint32_t slot);
  // Neither: no DMs (the run has stopped it).
  void idle(std::uint32_t slot);
  // Away, and its queue has the size it wanted.
  bool queue_ready(std::uint32_t slot) const;

  struct Choice {
    std::uint32_t identity = 0;
    bool away = false;  // else online
  };
  // The recipient of a bulk sender's next DM, if any wants one: one of the
  // users away and short of their target if there are any, else one of the
  // users online; `random` picks among them.
  std::optional<Choice> pick(std::uint64_t random) const;

 private:
  enum class State { kIdle, kAway, kOnline };
  struct Wants {
    State state = State::kIdle;
    std::uint64_t queue_target = 0;
  };

  std::uint32_t identity(std::uint32_t slot) const;
  bool hungry(std::uint32_t slot) const;

  const DmBook& book_;
  std::vector<Wants> wants_;  // by slot
};

}  // namespace uvchat::bench
