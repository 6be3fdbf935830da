// The TLS half of a connection: records in, lines out, lines sealed into
// records, and what delivery means when the bytes on the wire are
// ciphertext. The rest of Connection (connection.cpp) moves bytes from its
// wire queue to the kernel without knowing which kind they are.
#include <algorithm>
#include <array>
#include <vector>

#include "connection_tls.hpp"
#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::net {
namespace {

// Plaintext of one record: a DM whose line ends in a record can be read
// once the whole record has arrived, so the record's end is where it
// counts as acknowledged.
constexpr std::size_t kRecordPlaintext = 16384;

// Lines sealed per turn of Connection::flush, so that a client with
// megabytes waiting does not have them all doubled into ciphertext at
// once: lines shared with other clients stay shared until their turn.
constexpr std::size_t kSealAhead = 4 * kRecordPlaintext;

}  // namespace

uv_buf_t Connection::tls_read_buffer() {
  thread_local std::array<char, 64 * 1024> buffer;
  return uv_buf_init(buffer.data(), static_cast<unsigned int>(buffer.size()));
}

const TlsSession* Connection::tls_session() const { return tls_ ? &tls_->session : nullptr; }

bool Connection::tls_established() const { return tls_ && tls_->established; }

bool Connection::tls_wire_empty() const { return tls_->wire.empty(); }

Fifo<Connection::Outgoing>& Connection::wire_queue() { return tls_ ? tls_->wire : output_; }

void Connection::start_tls(std::shared_ptr<const TlsContext> context) {
  tls_ = std::make_unique<Tls>(std::move(context));
  // The ClientHello (or its start) was read into the ring as if it were
  // text: it moves to the session, and the ring is for plaintext from now.
  std::string scratch;
  const std::string_view hello = input_.peek(input_.size(), scratch);
  tls_->session.receive(hello);
  tls_->session.keep_unread();
  input_.clear();
}

void Connection::receive_tls(std::span<const char> ciphertext) {
  tls_->session.receive(ciphertext);
  server_.on_input(*this);
  // What the server did not take (its input is paused, or the ring is
  // full) waits in the session, and the socket is not read meanwhile.
  tls_->session.keep_unread();
}

Connection::TlsInput Connection::decrypt_input() {
  if (!tls_) return TlsInput::kNone;
  Tls& tls = *tls_;
  TlsInput result = TlsInput::kNone;
  if (tls.peer_failed) return TlsInput::kFailed;
  if (tls.peer_closed) return TlsInput::kClosed;
  while (!input_.full()) {
    const std::span<char> space = input_.writable();
    const TlsSession::ReadResult got = tls.session.read(space);
    if (got.bytes > 0) {
      input_.commit(got.bytes);
      result = TlsInput::kLines;
    }
    // Lines that came before a close_notify, or before a record that
    // broke the protocol, were authentic: they are taken first, and the
    // end is said at the next call.
    if (got.status == TlsSession::Status::kClosed) {
      tls.peer_closed = true;
      if (result == TlsInput::kNone) result = TlsInput::kClosed;
      break;
    }
    if (got.status == TlsSession::Status::kFailed) {
      tls.peer_failed = true;
      if (result == TlsInput::kNone) result = TlsInput::kFailed;
      break;
    }
    if (got.bytes < space.size()) break;
  }
  if (!tls.established && tls.session.handshake_done()) {
    tls.established = true;
    server_.on_tls_established(*this);
  }
  // Handshake records, alerts and tickets go out with the next flush, and
  // so do lines that waited for the handshake (or for a post-handshake
  // message, a TLS 1.3 KeyUpdate split across records, to be read whole).
  const bool records = take_tls_output();
  if (records || (!output_.empty() && tls.session.handshake_done())) server_.schedule_flush(*this);
  return result;
}

// Not a flush of its own: seal_output calls it from within one.
bool Connection::take_tls_output() {
  std::string records = tls_->session.take_output();
  if (records.empty()) return false;
  tls_->sealed += records.size();
  pending_bytes_ += records.size();
  tls_->wire.push_back(Outgoing{chat::make_payload(std::move(records)), 0});
  return true;
}

// DMs are noted as they are sealed, at the stream offset where their
// record ends: they count as delivered once the client's TCP acknowledged
// that far (release_up_to), never before the record reached the kernel.
void Connection::seal_output() {
  Tls& tls = *tls_;
  if (!tls.session.handshake_done() || tls.session.failed()) return;
  thread_local std::string record;
  thread_local std::vector<chat::MessageId> ended;
  std::size_t sealed_now = 0;
  while (!output_.empty() && sealed_now < kSealAhead) {
    record.clear();
    ended.clear();
    while (!output_.empty() && record.size() < kRecordPlaintext) {
      const Outgoing& front = output_.front();
      const std::string& bytes = *front.bytes;
      const std::size_t take = std::min(bytes.size() - tls.plain_offset, kRecordPlaintext - record.size());
      record.append(bytes, tls.plain_offset, take);
      tls.plain_offset += take;
      if (tls.plain_offset < bytes.size()) break;
      if (front.message != 0) ended.push_back(front.message);
      output_.pop_front();
      tls.plain_offset = 0;
    }
    pending_bytes_ -= record.size();
    sealed_now += record.size();
    if (!tls.session.write(record)) {
      // Cannot happen once the handshake is done, short of memory: what
      // was not sealed stays undelivered.
      log(LogLevel::kWarn, "connection " + std::to_string(id_) + ": TLS: " + tls.session.error());
      break;
    }
    const std::uint64_t end = tls.sealed + tls.session.output().size();
    for (const chat::MessageId message : ended) note_in_kernel(end, message);
  }
  // A closing connection says close_notify after its last line.
  if (state_ == State::kDraining && output_.empty() && !tls.close_notify_sent) {
    tls.close_notify_sent = true;
    tls.session.shutdown();
  }
  take_tls_output();
}

void Connection::drop_plaintext() {
  if (tls_->established && !tls_->session.failed()) return;
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < output_.size(); ++i) dropped += output_[i].bytes->size();
  pending_bytes_ -= std::min(pending_bytes_, dropped - tls_->plain_offset);
  output_.clear();
  tls_->plain_offset = 0;
}

// Best effort, on a close that does not wait: only between records, and
// only if the socket takes it now.
void Connection::send_close_notify() {
  Tls& tls = *tls_;
  if (tls.close_notify_sent || write_in_flight_ != nullptr || !tls.wire.empty() || tls.plain_offset != 0 ||
      !tls.session.handshake_done() || tls.session.failed()) {
    return;
  }
  tls.close_notify_sent = true;
  tls.session.shutdown();
  write_now(tls.session.take_output());
}

// As for plain text (say_last_words), between records and between lines:
// the words are a record of their own, written now or never.
void Connection::say_last_words_tls(std::string_view words) {
  Tls& tls = *tls_;
  if (!tls.wire.empty() || tls.plain_offset != 0 || !tls.session.handshake_done() || tls.session.failed()) return;
  if (!tls.session.write(std::span<const char>(words.data(), words.size()))) return;
  write_now(tls.session.take_output());
}

}  // namespace uvchat::net
