#include "soak_answers.hpp"

#include <algorithm>

namespace uvchat::bench {

void DmAnswers::dm_sent(const SoakDm& dm) {
  waiting_.push_back(dm);
  next_sequence_ = dm.key.sequence + 1;
}

void DmAnswers::ping_sent(std::uint64_t now_ms) { pings_.push_back(Ping{next_sequence_, now_ms}); }

std::optional<SoakDm> DmAnswers::take_answered(std::uint32_t recipient) {
  const auto found =
      std::ranges::find_if(waiting_, [recipient](const SoakDm& dm) { return dm.recipient == recipient; });
  if (found == waiting_.end()) return std::nullopt;
  const SoakDm dm = *found;
  waiting_.erase(found);
  return dm;
}

std::optional<DmAnswers::Settled> DmAnswers::take_pong() {
  if (pings_.empty()) return std::nullopt;
  const Ping ping = pings_.front();
  pings_.pop_front();
  Settled settled{ping.sent_ms, {}};
  while (!waiting_.empty() && waiting_.front().key.sequence < ping.next_sequence) {
    settled.live.push_back(waiting_.front());
    waiting_.pop_front();
  }
  return settled;
}

std::vector<SoakDm> DmAnswers::take_all() {
  std::vector<SoakDm> all(waiting_.begin(), waiting_.end());
  waiting_.clear();
  pings_.clear();
  return all;
}

std::size_t DmAnswers::forget_all() {
  const std::size_t forgotten = waiting_.size();
  waiting_.clear();
  pings_.clear();
  return forgotten;
}

bool settle_answer(DmAnswers& answers, DmBook& book, std::string_view recipient_name, bool queued) {
  const auto recipient = book.identity_of(recipient_name);
  const auto dm = recipient ? answers.take_answered(*recipient) : std::nullopt;
  if (!dm) return false;
  if (queued) {
    book.acknowledge(*dm, Acknowledgement::kQueued);
  } else {
    book.refuse(*dm);
  }
  return true;
}

}  // namespace uvchat::bench
