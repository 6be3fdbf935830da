#include "soak_vanisher.hpp"

#include <array>

#include "soak_dm_book.hpp"
#include "wire.hpp"

namespace uvchat::bench {
namespace {

constexpr std::uint64_t kShortestStayMs = 10;
constexpr std::uint64_t kLongestStayMs = 300;
constexpr std::uint64_t kShortestAbsenceMs = 100;
constexpr std::uint64_t kLongestAbsenceMs = 600;
constexpr std::uint64_t kWriteCheckMs = 10;

constexpr std::array<std::string_view, 4> kHalfCommands = {"server:who", "server:join #soak-lob",
                                                           "#soak-lobby: I was about to s", "server:regis"};

}  // namespace

Vanisher::Vanisher(SoakContext& context, std::uint32_t slot) : SoakClient(context, Role::kVanisher, slot) {}

// A new address each session, as for a stranger.
std::uint64_t Vanisher::source_number() const { return sessions_ * context_.config.vanishers + slot_; }

void Vanisher::session_began() {
  registering_ = chance(0.5);
  if (registering_) {
    send_line("server:register " + name_);
  } else {
    send_half_line();
  }
}

// A name its previous self still holds (not yet noticed gone) is refused:
// then it vanishes unregistered.
void Vanisher::line_arrived(std::string_view line) {
  const auto event = parse_server_event(line);
  if (!registering_ || !event) return;
  if (event->event == "queued-messages" || event->event == "error") {
    registering_ = false;
    if (event->event == "queued-messages") ++context_.stats.vanished_registered;
    send_half_line();
  }
}

void Vanisher::send_half_line() {
  if (chance(0.5)) {
    const auto user = static_cast<std::uint32_t>(random_between(0, context_.config.users - 1));
    send_bytes(context_.book.identity_name(user) + ": I was just going to say th");
  } else {
    send_bytes(kHalfCommands[random_between(0, kHalfCommands.size() - 1)]);
  }
  pacer_.start(random_between(kShortestStayMs, kLongestStayMs), [this] { vanish_when_sent(); });
}

// Vanishing before the half line has left would make it a plain close.
void Vanisher::vanish_when_sent() {
  if (client().unsent_bytes() > 0) {
    pacer_.start(kWriteCheckMs, [this] { vanish_when_sent(); });
  } else if (chance(0.5)) {
    ++context_.stats.vanished_fin;
    client().close();
  } else {
    ++context_.stats.vanished_reset;
    client().reset();
  }
}

std::optional<std::uint64_t> Vanisher::session_ended(CloseReason, std::string_view) {
  return random_between(kShortestAbsenceMs, kLongestAbsenceMs);
}

}  // namespace uvchat::bench
