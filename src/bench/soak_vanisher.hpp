// A client of the soak that disappears in the middle of a line.
#pragma once

#include <cstdint>
#include <string_view>

#include "soak_client.hpp"

namespace uvchat::bench {

// Connects, each time from a new address; half the time registers first;
// sends the start of a line (a DM to a user, a room line, a command) with
// no line end, and vanishes a moment later, with a FIN or a TCP reset. With
// a FIN the server takes the unfinished line as a line (docs/PROTOCOL.md,
// section 1), so a vanisher's half DM may reach a user: the ledger counts
// it apart ("foreign"). Whatever happens, nothing is expected of the server
// but to carry on.
class Vanisher final : public SoakClient {
 public:
  Vanisher(SoakContext& context, std::uint32_t slot);

 private:
  void session_began() override;
  void line_arrived(std::string_view line) override;
  std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override { client().reset(); }
  std::uint64_t source_number() const override;

  void send_half_line();
  void vanish_when_sent();

  bool registering_ = false;
};

}  // namespace uvchat::bench
