#include "soak_identity.hpp"

namespace uvchat::bench {

IdentityClient::IdentityClient(SoakContext& context, Role role, std::uint32_t slot, std::uint32_t identity)
    : SoakClient(context, role, slot), identity_(identity), inbox_(context.book, context.report, identity) {}

void IdentityClient::drain_queue(Reading replayed_as) {
  draining_ = true;
  replayed_as_ = replayed_as;
  start(0);
}

void IdentityClient::take_part(std::uint64_t delay_ms) {
  draining_ = false;
  replayed_as_ = Reading::kReplayed;
  soak_take_part();
  start(delay_ms);
}

void IdentityClient::session_began() {
  registered_ = false;
  inbox_.start_session(replayed_as_);
  send_line("server:register " + name_);
  if (draining_) {
    drain_session_began();
  } else {
    soak_session_began();
  }
}

void IdentityClient::line_arrived(std::string_view line) {
  inbox_.take(line);
  if (draining_) {
    drain_line(line);
  } else {
    soak_line(line);
  }
  if (const auto event = parse_server_event(line)) take_event(line, *event);
  if (!registered_ && inbox_.queue_read()) note_queue_read();
}

void IdentityClient::note_queue_read() {
  registered_ = true;
  if (draining_) {
    leave();
  } else {
    soak_registered();
  }
}

// Welcome, presence and the queue's header need nothing here, and
// `server:missed` is only counted. A refused registration (name-taken,
// rate-limited, server-full), an error while draining, or a server going
// away: nothing a well-behaved client should meet.
void IdentityClient::take_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "missed") note_missed(line, event.args);
  const bool refused = event.event == "error" && (!registered_ || draining_);
  if (event.event == "shutdown" || refused) {
    fail(line);
    client().close();
  } else if (!draining_) {
    soak_event(line, event);
  }
}

std::optional<std::uint64_t> IdentityClient::session_ended(CloseReason reason, std::string_view error) {
  if (!draining_) return soak_session_ended(reason, error);
  drain_session_ended();
  check_close(reason, error);
  if (!registered_) fail("the connection ended before its queue was read");
  return std::nullopt;
}

}  // namespace uvchat::bench
