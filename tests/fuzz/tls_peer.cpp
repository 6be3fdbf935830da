#include "tls_peer.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <span>
#include <utility>

#include "check.hpp"

namespace uvchat::fuzz {
namespace {

using net::TlsSession;

// The largest records with their headers, TLS 1.3's and TLS 1.2's.
constexpr std::size_t kLargestTls13Record = 5 + 16384 + 256;
constexpr std::size_t kLargestTls12Record = 5 + 16384 + 2048;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
constexpr std::size_t kLargeSizes[] = {64,  128, 517, 1500, 4096, kLargestTls13Record, kLargestTls12Record,
                                       kAll};

// Where a session's SSL points back to its TlsPeer.
int peer_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Writes the schedule makes, at most: each answers bytes received, and
// the other end answers them in turn, so that without a bound two ends
// would talk for ever.
constexpr int kMaxScheduledWrites = 6;

// Larger than the plaintext of any record.
constexpr std::size_t kLargeBuffer = 17 * 1024;
constexpr std::size_t kRecordPlaintext = 16384;
constexpr std::size_t kRecordHeader = 5;
// RFC 5246 §6.2.3 (TLS 1.2): a record's body is at most 2^14 + 2048;
// TLS 1.3's bound is lower.
constexpr std::size_t kMaxRecordBody = 16384 + 2048;

constexpr std::uint8_t kChangeCipherSpec = 20;
constexpr std::uint8_t kApplicationData = 23;

std::uint8_t byte_at(std::string_view bytes, std::size_t at) { return static_cast<std::uint8_t>(bytes[at]); }

// 40 KB that no shift of itself matches, so that a record delivered twice or
// out of order could not pass for the data.
const std::string& large_plaintext() {
  static const std::string text = [] {
    std::string made(40000, '\0');
    for (std::size_t i = 0; i < made.size(); ++i) made[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
    return made;
  }();
  return text;
}

}  // namespace

Schedule::Schedule(std::string_view steps) {
  for (std::size_t i = 0; i < kSteps && i < steps.size(); ++i)
    steps_[i] = static_cast<std::uint8_t>(steps[i]);
}

Schedule::Step Schedule::next() {
  const std::uint8_t step = steps_[next_++ % kSteps];
  const std::size_t size = step & 0x1F;
  return Step{size < 24 ? size + 1 : kLargeSizes[size - 24], static_cast<Action>(step >> 5)};
}

std::size_t count_records(std::string_view bytes, std::string_view whose, std::size_t* application_records) {
  std::size_t records = 0;
  while (!bytes.empty()) {
    check(bytes.size() >= kRecordHeader, "output ends in a part of a record header", whose);
    const std::uint8_t type = byte_at(bytes, 0);
    check(type >= kChangeCipherSpec && type <= kApplicationData, "output holds a record of no known type",
          whose);
    // No check of the version: a protocol_version alert carries the one
    // the client's hello said, whatever it was.
    const std::size_t length = std::size_t{byte_at(bytes, 3)} << 8 | byte_at(bytes, 4);
    check(length <= kMaxRecordBody, "output holds a record longer than TLS allows", whose);
    check(bytes.size() - kRecordHeader >= length, "output ends in a part of a record", whose);
    if (type == kApplicationData && application_records != nullptr) ++*application_records;
    bytes.remove_prefix(kRecordHeader + length);
    ++records;
  }
  return records;
}

// The checks every call to the session passes: made before it, finished
// after it.
class TlsPeer::Call {
 public:
  explicit Call(TlsPeer& peer)
      : peer_(peer), was_failed_(peer.failed()), output_before_(peer.session().output().size()) {}

  void finish() {
    TlsSession& session = peer_.session();
    const std::string& output = session.output();
    check(output.size() >= output_before_, "a call took output back", peer_.name_);
    if (was_failed_) {
      check(session.failed(), "a failed session recovered", peer_.name_);
      check(output.size() == output_before_, "a failed session sent more", peer_.name_);
    }
    if (session.failed()) check(!session.error().empty(), "a session failed without saying why", peer_.name_);
    count_records(std::string_view(output).substr(peer_.checked_output_), peer_.name_, nullptr);
    peer_.checked_output_ = output.size();
    check(!session.handshake_done() || peer_.established_, "handshake_done() before the handshake was",
          peer_.name_);
    if (!was_failed_ && session.failed()) peer_.trace("failed: " + session.error());
  }

  bool was_failed() const { return was_failed_; }
  std::size_t output_before() const { return output_before_; }

 private:
  TlsPeer& peer_;
  bool was_failed_;
  std::size_t output_before_;
};

TlsPeer::TlsPeer(std::string name, std::shared_ptr<const net::TlsContext> context, TlsSession::Role role,
                 Schedule schedule, bool tracing, std::string_view server_name)
    : name_(std::move(name)),
      session_(std::make_unique<TlsSession>(std::move(context), role, server_name)),
      schedule_(schedule),
      tracing_(tracing),
      plaintext_(kLargeBuffer) {
  check(!session_->failed(), "a new session failed", session_->error());
  check(session_->output().empty(), "a new session has something to say", name_);
  // OpenSSL says when a handshake is done; handshake_done() cannot, when
  // the session fails later in the same call (the Finished and a bad
  // record arrive together): read() then returns the plaintext between them.
  SSL* ssl = session_->ssl();
  SSL_set_ex_data(ssl, peer_index(), this);
  SSL_set_info_callback(ssl, [](const SSL* self, int where, int) {
    if ((where & SSL_CB_HANDSHAKE_DONE) == 0) return;
    auto* peer = static_cast<TlsPeer*>(SSL_get_ex_data(self, peer_index()));
    if (!peer->established_) peer->trace("handshake done: " + peer->session_->description());
    peer->established_ = true;
  });
}

void TlsPeer::trace(const std::string& what) const {
  if (tracing_) std::fprintf(stderr, "  %s: %s\n", name_.c_str(), what.c_str());
}

void TlsPeer::receive(std::string_view ciphertext) {
  if (!ciphertext.empty()) trace("receives " + std::to_string(ciphertext.size()) + " bytes");
  while (!ciphertext.empty()) {
    const Schedule::Step step = schedule_.next();
    const std::size_t size = std::min(step.size, ciphertext.size());
    // The socket's read buffer, its own allocation and gone after the read:
    // AddressSanitizer sees a view kept past keep_unread().
    auto chunk = std::make_unique<char[]>(size);
    std::memcpy(chunk.get(), ciphertext.data(), size);
    ciphertext.remove_prefix(size);
    session_->receive(std::span<const char>(chunk.get(), size));
    held_.clear();  // receive() kept what the session had not read of them
    if (step.action == Schedule::Action::kHold) {
      held_.push_back(std::move(chunk));
      continue;
    }
    act(step.action);
    session_->keep_unread();
  }
  // A connection reads after every read from its socket: nothing stays held.
  if (!held_.empty()) {
    read(kLargeBuffer);
    session_->keep_unread();
    held_.clear();
  }
}

void TlsPeer::act(Schedule::Action action) {
  using Action = Schedule::Action;
  const bool writes =
      action == Action::kWriteLine || action == Action::kWriteLarge || action == Action::kWriteNow;
  if (writes && scheduled_writes_++ >= kMaxScheduledWrites) action = Action::kReadLarge;
  switch (action) {
    case Action::kReadByte: read(1); return;
    case Action::kReadSmall: read(7); return;
    case Action::kHold:
    case Action::kReadLarge: read(kLargeBuffer); return;
    case Action::kWriteLine:
      read(kLargeBuffer);
      write(name_ + " line " + std::to_string(scheduled_writes_) + "\n");
      return;
    case Action::kWriteLarge:
      read(kLargeBuffer);
      write(large_plaintext());
      return;
    case Action::kShutdown:
      read(kLargeBuffer);
      shutdown();
      return;
    case Action::kWriteNow:
      read(kLargeBuffer);
      write(name_ + " line " + std::to_string(scheduled_writes_) + "\n", /*anyway=*/true);
      return;
  }
}

void TlsPeer::read(std::size_t buffer_size) {
  const std::span<char> buffer(plaintext_.data(), buffer_size);
  for (;;) {
    Call call(*this);
    const TlsSession::ReadResult got = session_->read(buffer);
    call.finish();
    check(got.bytes <= buffer.size(), "read() gave more than its buffer holds", name_);
    check((got.status == TlsSession::Status::kFailed) == failed(), "read() and failed() disagree", name_);
    if (call.was_failed()) check(got.bytes == 0, "a failed session gave plaintext", name_);
    if (got.bytes > 0) {
      check(established_, "plaintext before the handshake was done", name_);
      check(!closed_by_peer_, "plaintext after close_notify", name_);
      received_.append(buffer.data(), got.bytes);
    }
    if (got.status == TlsSession::Status::kClosed && !closed_by_peer_) {
      closed_by_peer_ = true;
      trace("reads close_notify");
    }
    if (got.status != TlsSession::Status::kOk) return;
    if (got.bytes < buffer.size()) {
      check(!session_->has_unread(), "read() wants more while it holds ciphertext unread", name_);
      return;
    }
  }
}

void TlsPeer::start_handshake() {
  Call call(*this);
  session_->start_handshake();
  call.finish();
  check(failed() || !session_->output().empty(), "start_handshake() sent nothing", name_);
}

void TlsPeer::write(std::string_view plaintext, bool anyway) {
  // handshake_done() and not established_: a renegotiation or a
  // post-handshake message read in part puts the session back in a
  // handshake, where SSL_write would want to read.
  if (!anyway && (!session_->handshake_done() || shut_down_ || failed())) return;
  trace(std::string(anyway ? "writes anyway " : "writes ") + std::to_string(plaintext.size()) + " bytes");
  Call call(*this);
  const bool written = session_->write(plaintext);
  call.finish();
  check(written == !failed(), "write() and failed() disagree", name_);
  if (call.was_failed()) {
    check(!written, "a failed session took plaintext", name_);
    return;
  }
  // Even a refused write may have sent its first records.
  sent_.append(plaintext);
  if (!written) {
    refused_write_ = true;
    check(anyway, "write() refused an established session", session_->error());
    return;
  }
  const std::string_view added = std::string_view(session_->output()).substr(call.output_before());
  std::size_t application_records = 0;
  count_records(added, name_, &application_records);
  check(added.size() > plaintext.size(), "write() put less than its plaintext into output()", name_);
  check(application_records >= (plaintext.size() + kRecordPlaintext - 1) / kRecordPlaintext,
        "write() made fewer records than 16 KiB each allows", name_);
}

void TlsPeer::shutdown() {
  const bool open = established_ && session_->handshake_done() && !failed();
  trace("shuts down");
  Call call(*this);
  session_->shutdown();
  call.finish();
  if (open && !shut_down_) {
    check(session_->output().size() > call.output_before(), "shutdown() queued no close_notify", name_);
  }
  if (open) shut_down_ = true;
}

std::string TlsPeer::take_output() {
  checked_output_ = 0;
  return session_->take_output();
}

}  // namespace uvchat::fuzz
