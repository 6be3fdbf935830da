// A user of the soak who stops reading.
#pragma once

#include <cstdint>
#include <string_view>

#include "soak_identity.hpp"

namespace uvchat::bench {

// Registers, joins the flood room (so that plenty is sent to it besides the
// users' DMs) and reads nothing for 15 to 50 s. Then it reads again, and
// --slow-reader-wait ms later sends a ping: the bytes read before the pong
// are the backlog, which must stay within backlog_allowed(). A server that
// enforces --max-outbuf has cut it long before (`server:error too-slow` if
// there was room for it, and close).
//
// What the server had handed to the socket before the cut is still in the
// server's kernel then. It reaches a reader that reads before it writes;
// but a line written to the closed connection (the ping, or the exit when
// the run ends) makes the server's kernel reset it and drop that data.
// PROTOCOL.md counts those DMs as delivered; issue 4 asks that a cut reader
// get every DM it had not received, and so does the soak's ledger. A long
// wait (3000 ms) keeps the readers from speaking into a cut connection.
class SlowReader final : public IdentityClient {
 public:
  SlowReader(SoakContext& context, std::uint32_t slot);

  // How large a backlog may be without a cut: the server's hard limit
  // (eight times --max-outbuf; the soft one, --max-outbuf for 5 s, is not
  // checked), the kernel's share (the server's send buffer at its largest
  // and the reader's receive buffer, from /proc/sys/net/ipv4), and what may
  // arrive while the reader catches up. 0 when the limit is not checked.
  static std::uint64_t backlog_allowed(const SoakConfig& config);

 private:
  void soak_session_began() override;
  void soak_line(std::string_view line) override;
  void soak_event(std::string_view line, const ServerEvent& event) override;
  std::uint64_t soak_session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override;

  void start_reading_again();
  void ask_where_backlog_ends();
  void take_pong();
  bool was_cut(CloseReason reason) const;

  bool holding_ = false;    // not reading
  bool measuring_ = false;  // reading the backlog, the pong not come yet
  std::uint64_t backlog_bytes_ = 0;
  bool pong_seen_ = false;
  bool bye_seen_ = false;
  bool told_too_slow_ = false;
};

}  // namespace uvchat::bench
