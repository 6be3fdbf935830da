// A client of the soak that sends as fast as it can.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "soak_client.hpp"

namespace uvchat::bench {

// Registers, joins the flood room and sends batches of lines, each ended by
// a ping, keeping several batches unanswered: as fast as the server will
// take them. Most lines go to the flood room (2 to 4 KB, to fill the slow
// readers who are in it), the rest are DMs to itself and short broadcasts. A
// server with --rate reads it more slowly but must never drop it or refuse a
// line. After 20 to 60 s it leaves, with `server:exit` or a TCP reset.
class Flooder final : public SoakClient {
 public:
  Flooder(SoakContext& context, std::uint32_t slot);

 private:
  void session_began() override;
  void line_arrived(std::string_view line) override;
  std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) override;
  void wind_down() override { leave(); }

  void start_flooding();
  void send_batch();
  void append_flood_line();
  void take_pong();
  void note_flood_time();

  bool flooding_ = false;
  std::uint64_t batches_unanswered_ = 0;
  std::uint64_t flood_started_ms_ = 0;
  std::uint64_t lines_ = 0;
  std::string batch_;
};

}  // namespace uvchat::bench
