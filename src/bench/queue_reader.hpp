// A user who registers, reads the offline queue the server replays, and
// leaves.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "line_client.hpp"
#include "wire.hpp"

namespace uvchat::bench {

class Driver;
struct Report;

// On registration the server sends `server:welcome NAME`,
// `server:queued-messages N` and N replayed lines; the reader hands each of
// them to `on_replayed` and then sends `server:exit`. Registering makes the
// name known to the server; leaving makes it offline.
class QueueReader final : public LineHandler {
 public:
  using ReplaySink = std::function<void(std::string_view line)>;

  QueueReader(Driver& driver, Report& report, std::string name, ReplaySink on_replayed);

  void start() { client_.connect(); }
  // It has left, or its connection has ended otherwise.
  bool done() const { return client_.closed(); }
  std::uint64_t replayed() const { return replayed_; }

 private:
  void on_connected() override;
  void on_line(std::string_view line) override;
  void on_closed(CloseReason reason, std::string_view error) override;

  void take_replayed(std::string_view line);
  void take_event(std::string_view line, const ServerEvent& event);
  void leave_once_read();

  Report& report_;
  std::string name_;
  ReplaySink on_replayed_;
  std::optional<std::uint64_t> announced_;  // N of `server:queued-messages N`
  std::uint64_t replayed_ = 0;
  bool leaving_ = false;
  LineClient client_;
};

}  // namespace uvchat::bench
