#include "queue_reader.hpp"

#include "report.hpp"

namespace uvchat::bench {

QueueReader::QueueReader(Driver& driver, Report& report, std::string name, ReplaySink on_replayed)
    : report_(report), name_(std::move(name)), on_replayed_(std::move(on_replayed)), client_(driver, *this) {}

void QueueReader::on_connected() { client_.send_line("server:register " + name_); }

void QueueReader::on_line(std::string_view line) {
  if (const auto event = parse_server_event(line)) {
    take_event(line, *event);
  } else {
    take_replayed(line);
  }
}

void QueueReader::take_replayed(std::string_view line) {
  if (!announced_ || replayed_ == *announced_) {
    report_.add_error(name_ + ": a line it did not expect: " + std::string(line));
    return;
  }
  ++replayed_;
  on_replayed_(line);
  leave_once_read();
}

void QueueReader::take_event(std::string_view line, const ServerEvent& event) {
  if (event.event == "queued-messages") {
    announced_ = parse_count(event.args);
    if (!announced_) {
      report_.add_error(name_ + ": a bad queue size: " + std::string(line));
      client_.close();
      return;
    }
    leave_once_read();
  } else if (event.event == "error") {
    report_.add_error(name_ + ": " + std::string(line));
    client_.close();
  }
  // welcome, bye and presence need nothing.
}

void QueueReader::leave_once_read() {
  if (leaving_ || !announced_ || replayed_ < *announced_) return;
  leaving_ = true;
  client_.send_line("server:exit");
}

void QueueReader::on_closed(CloseReason reason, std::string_view error) {
  if (reason == CloseReason::kError) {
    report_.add_error(name_ + ": " + std::string(error));
  } else if (reason == CloseReason::kByServer && !leaving_) {
    report_.add_error(name_ + ": the server closed the connection before the queue was read");
  }
}

}  // namespace uvchat::bench
