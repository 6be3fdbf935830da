// When a connection being cut (Connection::begin_cut) may be reset. Pure
// arithmetic on a millisecond clock and on what the kernel says of the
// socket, so that the decision is tested without one.
#pragma once

#include <cstdint>

namespace uvchat::net {

// What the kernel says of a socket's output at one moment.
struct SendQueueSample {
  // Bytes of the stream the client's TCP has acknowledged so far.
  std::uint64_t acknowledged = 0;
  // Bytes sent that it has not acknowledged yet: on the wire, or in its
  // receive buffer, where the client may be reading them right now.
  std::uint64_t in_flight = 0;
  // Bytes the kernel holds and has not sent yet.
  std::uint64_t unsent = 0;
};

enum class CutStep : std::uint8_t {
  kWait,     // look again later
  kSettled,  // a reset now counts exactly what the client can read
  kStalled,  // in flight, and the client's TCP has stopped acknowledging
  kTooLong,  // the cut has taken kLimitMs: the client is still reading
};

// A reset drops what the kernel holds for the client, so the server counts
// a DM delivered only if the client's TCP acknowledged it. Bytes not sent
// yet are right to count as undelivered: they are never read. Bytes in
// flight are not: they reach the client before the reset does, it reads
// them, and they would be replayed at its next registration all the same.
// So the cut waits until nothing is in flight.
//
// A client that reads nothing has closed its window: what was sent is
// acknowledged within a delayed ACK, and the cut ends. A client that reads
// during the cut (it may only have been slow) opens its window again and
// again, and the kernel sends it more of what it holds, so something is
// nearly always in flight. Nothing goes into the kernel once the cut has
// begun but the rest of a write already under way, so what it holds (a
// socket buffer and up to a write's lines) only shrinks, and nothing more
// is read from the client meanwhile.
//
// Nothing in flight is not enough while the kernel still has bytes to
// send: a reading client's next window update may be microseconds away,
// and what the kernel sends between the look and the reset the client
// reads, though it counts as undelivered. So the cut ends only once the
// kernel has nothing left to send, or once a whole look apart (some 20 ms)
// nothing was in flight and nothing was acknowledged: the client has
// stopped reading. What remains is a client that starts reading again in
// the microseconds between the last look and the reset.
//
// The wait is bounded twice. A client whose TCP acknowledges nothing for
// kStallMs while bytes are in flight (longer than any delayed ACK) is gone
// or unreachable; one still reading after kLimitMs takes too long. Either
// is reset as it is, and the DMs in flight are replayed: at least once, as
// for a connection that breaks, and never lost.
class CutWait {
 public:
  // Clients delay ACKs by at most 200 ms (Linux, Windows), 500 ms by RFC 1122.
  static constexpr std::uint64_t kStallMs = 500;
  // A socket buffer of a few MiB, read at a few hundred KiB a second.
  static constexpr std::uint64_t kLimitMs = 10'000;

  // `first`: what the kernel said as the cut began.
  CutWait(std::uint64_t start_ms, const SendQueueSample& first)
      : start_ms_(start_ms), progress_ms_(start_ms), acknowledged_(first.acknowledged), last_(first) {}

  std::uint64_t start_ms() const { return start_ms_; }

  CutStep step(const SendQueueSample& sample, std::uint64_t now_ms) {
    const bool quiet =
        sample.in_flight == 0 && last_.in_flight == 0 && sample.acknowledged == last_.acknowledged;
    last_ = sample;
    if (sample.acknowledged > acknowledged_) {
      acknowledged_ = sample.acknowledged;
      progress_ms_ = now_ms;
    }
    if (sample.in_flight == 0 && (sample.unsent == 0 || quiet)) return CutStep::kSettled;
    if (elapsed(start_ms_, now_ms) >= kLimitMs) return CutStep::kTooLong;
    if (sample.in_flight > 0 && elapsed(progress_ms_, now_ms) >= kStallMs) return CutStep::kStalled;
    return CutStep::kWait;
  }

 private:
  static std::uint64_t elapsed(std::uint64_t since_ms, std::uint64_t now_ms) {
    return now_ms > since_ms ? now_ms - since_ms : 0;
  }

  std::uint64_t start_ms_;
  std::uint64_t progress_ms_;   // when acknowledged_ last grew
  std::uint64_t acknowledged_;  // the most the client's TCP has acknowledged
  SendQueueSample last_;        // the previous look
};

}  // namespace uvchat::net
