// What one of the soak's identities reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "soak_dm_book.hpp"
#include "wire.hpp"

namespace uvchat::bench {

struct Report;

// Takes every line an identity reads and hands its DMs to the book, each as
// live or replayed: replayed DMs come in the block that
// `server:queued-messages N` opens, dated (`[YYYY-MM-DD HH:MM:SS]`); live
// ones come outside any block with the time alone (`[HH:MM:SS]`). The lines
// of a history answer (`server:history TARGET N`, also sent on a join) are
// DMs or room lines already counted, and are skipped. A line in the wrong
// place, for instance a live DM inside a block, is an error: the server
// keeps the lines of an answer together.
class Inbox {
 public:
  Inbox(DmBook& book, Report& report, std::uint32_t identity);

  // A new connection. `replayed_as`: kStale while the queues left by an
  // earlier run are drained, kReplayed after.
  void start_session(Reading replayed_as);
  void take(std::string_view line);
  // `server:queued-messages N` came and its N lines were read.
  bool queue_read() const { return queue_announced_ && block_ != Block::kQueue; }

 private:
  enum class Block { kNone, kQueue, kHistory };

  void take_event(std::string_view line, const ServerEvent& event);
  void open_block(Block block, std::string_view count, std::string_view line);
  void take_chat_line(std::string_view line);
  void take_block_line(std::string_view line, bool dated, const std::optional<ChatLine>& dm);
  void problem(std::string_view what, std::string_view line);

  DmBook& book_;
  Report& report_;
  std::uint32_t identity_;
  Reading replayed_as_ = Reading::kReplayed;
  Block block_ = Block::kNone;
  std::uint64_t block_lines_left_ = 0;
  bool queue_announced_ = false;
};

}  // namespace uvchat::bench
