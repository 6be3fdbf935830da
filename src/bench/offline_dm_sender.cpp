#include "offline_dm_sender.hpp"

#include "driver.hpp"
#include "ledger.hpp"
#include "report.hpp"

namespace uvchat::bench {

std::uint32_t offline_recipient_of(MessageKey key, std::uint32_t recipients) {
  return static_cast<std::uint32_t>((key.sender + key.sequence) % recipients);
}

OfflineDmSender::OfflineDmSender(Driver& driver, Report& report, Ledger& ledger, const Plan& plan)
    : driver_(driver),
      report_(report),
      ledger_(ledger),
      plan_(plan),
      name_(indexed_name(kOfflineSenderPrefix, plan.index)),
      sent_to_(plan.recipients, 0),
      answered_by_(plan.recipients, 0),
      client_(driver, *this) {}

void OfflineDmSender::on_connected() { client_.send_line("server:register " + name_); }

void OfflineDmSender::start(std::optional<std::uint64_t> deadline_ms) {
  deadline_ms_ = deadline_ms;
  started_ = true;
  fill_window();
  finished_ = in_flight() == 0;
}

void OfflineDmSender::on_line(std::string_view line) {
  // Chat lines (a queue left from an earlier run) are not this scenario's.
  if (const auto event = parse_server_event(line)) take_event(line, *event);
}

void OfflineDmSender::take_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "queued-messages") {
    registered_ = true;
  } else if (event.event == "queued") {
    take_answer(line, true, event.args);
  } else if (event.event == "error") {
    take_answer(line, false, error_subject(event.args));
  }
}

void OfflineDmSender::take_answer(std::string_view line, bool queued, std::string_view recipient) {
  const std::optional<std::uint32_t> answered = recipient_awaiting_answer(recipient);
  if (!answered) {
    // Not an answer to a DM: a failed registration, or a server gone wrong.
    report_.add_error(what(line));
    client_.close();
    return;
  }
  ++answered_by_[*answered];
  ++answered_;
  last_answer_at_ = Clock::now();
  if (queued) {
    ledger_.record_acknowledged(plan_.index, *answered);
  } else {
    report_.add_error(what(line));
  }
  fill_window();
  finished_ = in_flight() == 0;
}

// The recipient NAME stands for, if a DM to it is waiting for an answer.
std::optional<std::uint32_t> OfflineDmSender::recipient_awaiting_answer(std::string_view name) const {
  const auto recipient = name_index(kOfflineRecipientPrefix, name);
  if (!registered_ || !recipient || *recipient >= plan_.recipients) return std::nullopt;
  if (answered_by_[*recipient] >= sent_to_[*recipient]) return std::nullopt;
  return recipient;
}

void OfflineDmSender::fill_window() {
  while (in_flight() < plan_.window && may_send_more()) send_next();
}

bool OfflineDmSender::may_send_more() const {
  if (!started_ || sent_ >= plan_.quota) return false;
  return !deadline_ms_ || driver_.now_ms() < *deadline_ms_;
}

void OfflineDmSender::send_next() {
  const MessageKey key{plan_.index, sent_++};
  const std::uint32_t recipient = offline_recipient_of(key, plan_.recipients);
  line_.assign(kOfflineRecipientPrefix);
  append_decimal(line_, recipient);
  line_.push_back(':');
  append_message_text(line_, key, plan_.text_size);
  ++sent_to_[recipient];
  ledger_.record_sent(key, recipient);
  client_.send_line(line_);
}

void OfflineDmSender::on_closed(CloseReason reason, std::string_view error) {
  if (reason == CloseReason::kError) {
    report_.add_error(what(error));
  } else if (reason == CloseReason::kByServer) {
    report_.add_error(what("the server closed the connection"));
  }
}

std::string OfflineDmSender::what(std::string_view detail) const {
  return name_ + ": " + std::string(detail);
}

}  // namespace uvchat::bench
