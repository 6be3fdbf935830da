#include "soak_inbox.hpp"

#include "report.hpp"

namespace uvchat::bench {
namespace {

// "[HH:MM:SS]" ends at 9, "[YYYY-MM-DD HH:MM:SS]" at 20.
constexpr std::size_t kDatedStampEnd = 20;

bool is_dated(std::string_view chat_line) { return chat_line.find(']') == kDatedStampEnd; }

}  // namespace

Inbox::Inbox(DmBook& book, Report& report, std::uint32_t identity)
    : book_(book), report_(report), identity_(identity) {}

void Inbox::start_session(Reading replayed_as) {
  replayed_as_ = replayed_as;
  block_ = Block::kNone;
  block_lines_left_ = 0;
  queue_announced_ = false;
}

void Inbox::take(std::string_view line) {
  if (const auto event = parse_server_event(line)) {
    take_event(line, *event);
  } else if (line.starts_with('[')) {
    take_chat_line(line);
  } else {
    problem("a line that is neither chat nor server", line);
  }
}

void Inbox::take_event(std::string_view line, const ServerEvent& event) {
  if (block_ != Block::kNone) {
    problem("a server line inside a replayed block", line);
    block_ = Block::kNone;
  }
  if (event.event == "queued-messages") {
    queue_announced_ = true;
    open_block(Block::kQueue, event.args, line);
  } else if (event.event == "history") {
    open_block(Block::kHistory, event.args.substr(event.args.rfind(' ') + 1), line);
  }
}

void Inbox::open_block(Block block, std::string_view count, std::string_view line) {
  const std::optional<std::uint64_t> lines = parse_count(count);
  if (!lines) {
    problem("a bad line count", line);
    return;
  }
  block_lines_left_ = *lines;
  block_ = *lines > 0 ? block : Block::kNone;
}

void Inbox::take_chat_line(std::string_view line) {
  const std::optional<ChatLine> dm = parse_direct_message(line);
  const bool dated = is_dated(line);
  if (block_ != Block::kNone) {
    take_block_line(line, dated, dm);
  } else if (dated) {
    problem("a dated line outside a replayed block", line);
  } else if (dm) {
    book_.read(identity_, *dm, Reading::kLive);
  }
  // Live room lines and broadcasts are not the ledger's.
}

// A history answer's lines were counted when they were first read.
void Inbox::take_block_line(std::string_view line, bool dated, const std::optional<ChatLine>& dm) {
  const Block block = block_;
  if (--block_lines_left_ == 0) block_ = Block::kNone;
  if (!dated) {
    problem("a live line inside a replayed block", line);
    if (dm) book_.read(identity_, *dm, Reading::kLive);
  } else if (block == Block::kQueue) {
    if (dm) {
      book_.read(identity_, *dm, replayed_as_);
    } else {
      problem("a room line in the replayed queue", line);
    }
  }
}

void Inbox::problem(std::string_view what, std::string_view line) {
  report_.add_error(book_.identity_name(identity_) + ": " + std::string(what) + ": '" +
                    std::string(line.substr(0, 120)) + "'");
}

}  // namespace uvchat::bench
