#include "soak_flooder.hpp"

#include "wire.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kBatchLines = 32;
constexpr std::uint64_t kBatchesInFlight = 4;
// Of every 20 lines: 16 to the room, 3 DMs to itself, 1 broadcast.
constexpr std::uint64_t kLineKinds = 20;
constexpr std::uint64_t kRoomLines = 16;
constexpr std::uint64_t kDmsToSelf = 3;
constexpr std::uint64_t kShortestRoomLine = 2000;
constexpr std::uint64_t kLongestRoomLine = 4000;
constexpr std::uint64_t kShortestSessionMs = 20'000;
constexpr std::uint64_t kLongestSessionMs = 60'000;
constexpr std::uint64_t kShortestAbsenceMs = 1'000;
constexpr std::uint64_t kLongestAbsenceMs = 3'000;

}  // namespace

Flooder::Flooder(SoakContext& context, std::uint32_t slot) : SoakClient(context, Role::kFlooder, slot) {}

void Flooder::session_began() {
  flooding_ = false;
  batches_unanswered_ = 0;
  send_line("server:register " + name_);
  send_line("server:join " + std::string(kFloodRoom));
}

// Its own DMs, the room's lines and presence need nothing.
void Flooder::line_arrived(std::string_view line) {
  const auto event = parse_server_event(line);
  if (!event) return;
  if (event->event == "queued-messages" && !flooding_ && !leaving()) {
    start_flooding();
  } else if (event->event == "pong") {
    take_pong();
  } else if (event->event == "missed") {
    note_missed(line, event->args);
  } else if (event->event == "error" || event->event == "shutdown") {
    fail(line);
  }
}

void Flooder::start_flooding() {
  flooding_ = true;
  flood_started_ms_ = now_ms();
  ++context_.stats.flood_sessions;
  pacer_.start(random_between(kShortestSessionMs, kLongestSessionMs), [this] {
    if (chance(0.5)) {
      leave();
    } else {
      client().reset();
    }
  });
  for (std::uint64_t i = 0; i < kBatchesInFlight; ++i) send_batch();
}

void Flooder::send_batch() {
  batch_.clear();
  for (std::uint64_t i = 0; i < kBatchLines; ++i) append_flood_line();
  batch_.append("server:ping\n");
  send_bytes(batch_);
  context_.stats.flood_lines_sent += kBatchLines + 1;
  ++batches_unanswered_;
}

void Flooder::append_flood_line() {
  const std::uint64_t roll = random_between(0, kLineKinds - 1);
  const std::string number = std::to_string(++lines_);
  if (roll < kRoomLines) {
    batch_.append(kFloodRoom).append(": flood ").append(number).append(" ");
    batch_.append(random_between(kShortestRoomLine, kLongestRoomLine), static_cast<char>('a' + roll));
  } else if (roll < kRoomLines + kDmsToSelf) {
    batch_.append(name_).append(": note to self ").append(number);
  } else {
    batch_.append("*: flood ").append(number);
  }
  batch_.push_back('\n');
}

void Flooder::take_pong() {
  if (batches_unanswered_ == 0) {
    fail("a pong to no ping");
    return;
  }
  --batches_unanswered_;
  context_.stats.flood_lines_taken += kBatchLines + 1;
  if (!leaving()) send_batch();
}

void Flooder::note_flood_time() {
  if (flooding_) context_.stats.flood_ms += now_ms() - flood_started_ms_;
  flooding_ = false;
}

// Flood control reads a flooder more slowly; it never disconnects one.
std::optional<std::uint64_t> Flooder::session_ended(CloseReason reason, std::string_view error) {
  note_flood_time();
  check_close(reason, error);
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
