#include "uvchat/net/connection.hpp"

#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "connection_tls.hpp"
#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"
#include "uvchat/protocol/websocket.hpp"

namespace uvchat::net {
namespace {

// Buffers in one write. Far below IOV_MAX (1024 on Linux); a client with
// more queued than this gets the rest in the next write.
constexpr std::size_t kMaxBuffersPerWrite = 64;

// How long a closing connection may take to take its last lines.
constexpr std::uint64_t kDrainTimeoutMs = 5000;

// A busy connection asks the kernel what the client acknowledged once this
// many DMs wait for it, and not at every write; the sweep asks once a second.
constexpr std::size_t kReleaseBatch = 128;

// Of the `in_kernel` bytes the kernel was given, those the client has
// acknowledged; all of them where the kernel cannot be asked.
std::uint64_t acknowledged_of(std::uint64_t in_kernel, std::optional<std::uint64_t> unacknowledged) {
  return unacknowledged ? in_kernel - std::min(in_kernel, *unacknowledged) : in_kernel;
}

}  // namespace

// A uv_write in flight holds references to the payloads it writes, so a
// payload shared with other connections lives until every write of it ends.
struct Connection::WriteRequest {
  uv_write_t request{};
  Connection* connection = nullptr;
  std::vector<Outgoing> entries;
  std::size_t bytes = 0;
  std::uint64_t start = 0;     // stream offset of its first byte
  std::size_t first_skip = 0;  // bytes of entries[0] written before it
};

Connection::~Connection() = default;

Connection::Connection(Server& server, chat::SessionId id, const ConnectionLimits& limits)
    : server_(server),
      id_(id),
      input_(protocol::Framer::buffer_capacity(limits.max_line)),
      limits_(limits),
      bucket_(limits.flood) {
  tcp_.data = this;
}

door::Codec& Connection::codec() { return own_codec_ ? *own_codec_ : server_.native_codec(); }

void Connection::pick_door(std::unique_ptr<door::Codec> own) {
  own_codec_ = std::move(own);
  door_picked_ = true;
}

int Connection::start_reading() {
  const int status = uv_read_start(stream(), on_alloc, on_read);
  reading_ = status == 0;
  return status;
}

void Connection::update_reading() {
  const bool want = takes_input() && !input_ended_;
  if (want == reading_) return;
  if (want) {
    if (start_reading() != 0) server_.on_connection_lost(*this);
  } else {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void Connection::pause_input() {
  input_paused_ = true;
  update_reading();
}

void Connection::resume_input() {
  input_paused_ = false;
  update_reading();
}

bool Connection::may_take_line(std::uint64_t now_ms) {
  return (own_codec_ && !own_codec_->metered()) || bucket_.has_token(now_ms, limits_.flood);
}

void Connection::take_line() {
  if (!own_codec_ || own_codec_->metered()) bucket_.take(limits_.flood);
}

std::uint64_t Connection::throttle(std::uint64_t now_ms) {
  throttled_ = true;
  update_reading();
  return bucket_.next_token_at(now_ms, limits_.flood);
}

void Connection::unthrottle() {
  throttled_ = false;
  update_reading();
}

void Connection::hold_for_store() {
  store_hold_ = true;
  update_reading();
}

void Connection::release_for_store() {
  store_hold_ = false;
  update_reading();
}

void Connection::note_end_of_input() {
  input_ended_ = true;
  if (reading_) uv_read_stop(stream());
  reading_ = false;
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(handle->data);
  if (self->tls_) {
    *buf = tls_read_buffer();
    return;
  }
  // Read straight into the ring. It is never full here: the framer empties
  // a full ring that holds no line end.
  const std::span<char> space = self->input_.writable();
  *buf = uv_buf_init(space.data(), static_cast<unsigned int>(space.size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    if (self->tls_) {
      self->receive_tls({buf->base, static_cast<std::size_t>(nread)});
      return;
    }
    self->input_.commit(static_cast<std::size_t>(nread));
    if (self->sniffing_) {
      self->sniffing_ = false;
      self->server_.on_first_bytes(*self);  // may start TLS, or turn it away
      if (self->state_ != State::kOpen || self->tls_) return;
    }
    self->server_.on_input(*self);
  } else if (nread == UV_EOF) {
    self->server_.on_end_of_input(*self);
  } else if (nread < 0) {
    log(LogLevel::kDebug,
        "connection " + std::to_string(self->id_) + ": read: " + uv_strerror(static_cast<int>(nread)));
    self->server_.on_connection_lost(*self);
  }
  // nread == 0 is EAGAIN: nothing to do.
}

bool Connection::next_frame(protocol::Frame& frame) {
  protocol::WebSocketReader* reader = websocket();
  if (reader == nullptr) return framer_.next(input_, frame);
  const bool got = reader->next(input_, frame);
  std::string control = reader->take_output();
  if (!control.empty()) send(chat::make_payload(std::move(control)));
  return got;
}

bool Connection::websocket_ended() {
  protocol::WebSocketReader* reader = websocket();
  return reader != nullptr && reader->ended();
}

void Connection::send(chat::Payload payload, chat::MessageId message) {
  if (state_ == State::kClosing || state_ == State::kCutting || too_slow_ || payload->empty()) return;
  pending_bytes_ += payload->size();
  output_.push_back(Outgoing{std::move(payload), message});
  server_.schedule_flush(*this);
}

void Connection::check_output_limit(std::uint64_t now_ms) {
  if (limits_.max_outbuf == 0 || too_slow_ || state_ == State::kCutting || state_ == State::kClosing) return;
  // While the hub waits for the client to take a page of an answer
  // (watching_), the client owes it: that counts as over the soft bound,
  // so a client that stops reading in a replay is cut as any other.
  if (pending_bytes_ <= limits_.max_outbuf && !watching_) {
    over_limit_ = false;
    return;
  }
  // Any byte the client's TCP acknowledged since the last look is
  // progress, whether or not the server could write more since: the kernel
  // wakes a writer only once a good part of its send buffer (up to 4 MiB)
  // is free, which a client reading 256 KiB/s takes seconds to make.
  const std::uint64_t taken = bytes_acknowledged();
  if (!over_limit_ || taken != taken_mark_) {
    over_limit_ = true;
    over_limit_since_ = now_ms;
    taken_mark_ = taken;
  }
  if (pending_bytes_ > limits_.hard_outbuf || now_ms - over_limit_since_ >= kSoftLimitMs) {
    too_slow_ = true;
    server_.on_too_slow(*this);
  }
}

void Connection::watch_output() {
  watching_ = true;
  check_drained();
}

void Connection::check_drained() {
  if (!watching_ || pending_bytes_ > limits_.page_bytes || state_ != State::kOpen) return;
  watching_ = false;
  server_.on_output_drained(*this);
}

void Connection::close_after_flush() {
  if (state_ != State::kOpen) return;
  state_ = State::kDraining;
  update_reading();
  // Lines for a client that never finished its handshake can never be
  // sealed; an alert for it may still be on the wire queue.
  if (tls_) drop_plaintext();
  deadline_ = uv_now(tcp_.loop) + kDrainTimeoutMs;
  if (!has_pending_output()) {
    close_now();
    return;
  }
  server_.schedule_flush(*this);
}

void Connection::close_now() {
  if (state_ == State::kClosing) return;
  if (tls_) send_close_notify();
  release_all();
  state_ = State::kClosing;
  output_.clear();
  pending_bytes_ = 0;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
}

void Connection::abort() { reset(bytes_acknowledged()); }

// Only between lines: a write in flight or a line half written would have
// the words land inside a line. They are bytes of the stream like any
// other, so what the kernel says of it from now on counts them.
void Connection::say_last_words(std::string_view words) {
  if (state_ == State::kClosing || words.empty() || write_in_flight_ != nullptr || output_offset_ != 0)
    return;
  // A WebSocket's words are a frame, or they would break its framing.
  std::string framed;
  if (websocket() != nullptr) {
    protocol::append_lines_as_frames(words, framed);
    words = framed;
  }
  if (tls_) {
    say_last_words_tls(words);
    return;
  }
  write_now(words);
}

void Connection::write_now(std::string_view bytes) {
  if (bytes.empty()) return;
  uv_buf_t buffer = uv_buf_init(const_cast<char*>(bytes.data()), static_cast<unsigned int>(bytes.size()));
  const int written = uv_try_write(stream(), &buffer, 1);
  if (written > 0) written_ += static_cast<std::uint64_t>(written);
}

// The reset goes first and the bookkeeping after: whatever the kernel sends
// between the caller's look at it and the reset, the client may read, and
// it would count as undelivered (see CutWait).
void Connection::reset(std::uint64_t acknowledged) {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  if (uv_tcp_close_reset(&tcp_, on_close) != 0) uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
  release_up_to(acknowledged);
  unacknowledged_.clear();
  output_.clear();
  pending_bytes_ = 0;
}

void Connection::begin_cut() {
  if (state_ == State::kClosing || state_ == State::kCutting) return;
  state_ = State::kCutting;
  update_reading();
}

void Connection::note_in_kernel(std::uint64_t end, chat::MessageId message) {
  unacknowledged_.push_back(InKernel{end, message});
}

std::uint64_t Connection::bytes_in_kernel() const {
  if (write_in_flight_ == nullptr) return written_;
  // libuv writes a request in pieces; what it has not written yet is the
  // stream's write queue (one request at a time here).
  const std::size_t unwritten = uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_));
  return written_ + (write_in_flight_->bytes - std::min(unwritten, write_in_flight_->bytes));
}

// Bytes the socket holds that the client has not acknowledged (SIOCOUTQ),
// or of those the ones not even sent yet (SIOCOUTQNSD); nothing where the
// kernel cannot be asked.
std::optional<std::uint64_t> Connection::kernel_queue(unsigned long request) const {
  uv_os_fd_t fd = -1;
  int bytes = 0;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0 || ::ioctl(fd, request, &bytes) != 0 ||
      bytes < 0) {
    return std::nullopt;
  }
  return static_cast<std::uint64_t>(bytes);
}

// What the socket holds that the client has not acknowledged (SIOCOUTQ);
// nothing where the kernel cannot be asked.
std::optional<std::uint64_t> Connection::unacknowledged_in_kernel() const {
#ifdef SIOCOUTQ
  return kernel_queue(SIOCOUTQ);
#else
  return std::nullopt;
#endif
}

std::uint64_t Connection::bytes_acknowledged() const {
  return acknowledged_of(bytes_in_kernel(), unacknowledged_in_kernel());
}

// One look at what is unacknowledged (SIOCOUTQ), and only then at what of
// it is not sent yet (SIOCOUTQNSD): whatever the kernel sends, or the client
// acknowledges, in between makes in_flight larger, never smaller. Where the
// kernel tells what is unacknowledged but not which of it was sent
// (qemu-user has SIOCOUTQ but no SIOCOUTQNSD), all of it may be on the
// wire: counting none would let a cut reset bytes the client still reads,
// and those DMs would be replayed to it a second time.
SendQueueSample Connection::send_queue() const {
  const std::optional<std::uint64_t> unacknowledged = unacknowledged_in_kernel();
  SendQueueSample sample{.acknowledged = acknowledged_of(bytes_in_kernel(), unacknowledged)};
  if (!unacknowledged) return sample;
  std::uint64_t unsent = 0;
#ifdef SIOCOUTQNSD
  if (const std::optional<std::uint64_t> queued = kernel_queue(SIOCOUTQNSD)) {
    unsent = std::min(*unacknowledged, *queued);
  }
#endif
  sample.unsent = unsent;
  sample.in_flight = *unacknowledged - unsent;
  return sample;
}

void Connection::release_acknowledged() {
  if (unacknowledged_.empty() && write_in_flight_ == nullptr) return;
  release_up_to(bytes_acknowledged());
}

void Connection::release_up_to(std::uint64_t acknowledged) {
  auto first_unacknowledged = unacknowledged_.begin();
  while (first_unacknowledged != unacknowledged_.end() && first_unacknowledged->end <= acknowledged) {
    server_.on_delivered(first_unacknowledged->message);
    ++first_unacknowledged;
  }
  unacknowledged_.erase(unacknowledged_.begin(), first_unacknowledged);
  if (write_in_flight_ == nullptr) return;
  // DMs of the write in flight, when the client acknowledged them before
  // it ended (or before an abort cancels it): reported now, and not again.
  std::uint64_t end = write_in_flight_->start - write_in_flight_->first_skip;
  for (Outgoing& entry : write_in_flight_->entries) {
    end += entry.bytes->size();
    if (end > acknowledged) break;
    if (entry.message == 0) continue;
    server_.on_delivered(entry.message);
    entry.message = 0;
  }
}

// In order, the kernel sends all it holds before the FIN. DMs sealed into
// records not yet handed to it (TLS) are not delivered.
void Connection::release_all() {
  release_up_to(bytes_in_kernel());
  unacknowledged_.clear();
}

void Connection::on_close(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  self->server_.on_closed(*self);  // deletes self
}

void Connection::note_progress() {
  if (over_limit_) over_limit_since_ = uv_now(tcp_.loop);
}

void Connection::drop_written(std::size_t bytes) {
  note_progress();
  pending_bytes_ -= bytes;
  Fifo<Outgoing>& output = wire_queue();
  while (bytes > 0) {
    const std::size_t left_in_front = output.front().bytes->size() - output_offset_;
    if (bytes < left_in_front) {
      output_offset_ += static_cast<std::uint32_t>(bytes);
      written_ += bytes;
      return;
    }
    bytes -= left_in_front;
    written_ += left_in_front;
    if (output.front().message != 0) note_in_kernel(written_, output.front().message);
    output.pop_front();
    output_offset_ = 0;
  }
}

bool Connection::has_pending_output() const {
  return !output_.empty() || write_in_flight_ != nullptr || (tls_ && !tls_wire_empty());
}

void Connection::flush() {
  if (state_ == State::kClosing || state_ == State::kCutting || write_in_flight_ != nullptr) return;
  if (unacknowledged_.size() >= kReleaseBatch) release_acknowledged();
  // With TLS, lines are sealed a bounded amount at a time, and sealed
  // again as long as the kernel takes all of it.
  for (;;) {
    if (tls_) seal_output();
    Fifo<Outgoing>& output = wire_queue();
    if (output.empty()) break;
    std::array<uv_buf_t, kMaxBuffersPerWrite> buffers;
    const std::size_t count = std::min(output.size(), buffers.size());
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& bytes = *output[i].bytes;
      const std::size_t skip = (i == 0) ? output_offset_ : 0;
      buffers[i] =
          uv_buf_init(const_cast<char*>(bytes.data() + skip), static_cast<unsigned int>(bytes.size() - skip));
    }
    const int written = uv_try_write(stream(), buffers.data(), static_cast<unsigned int>(count));
    if (written < 0 && written != UV_EAGAIN) {
      log(LogLevel::kDebug, "connection " + std::to_string(id_) + ": write: " + uv_strerror(written));
      server_.on_connection_lost(*this);
      return;
    }
    if (written > 0) drop_written(static_cast<std::size_t>(written));
    if (!output.empty()) {
      submit_write();
      break;
    }
    if (!tls_ || output_.empty()) break;
  }
  check_drained();
  if (state_ == State::kDraining && !has_pending_output()) close_now();
}

// The kernel did not take everything: hand the rest to uv_write, which
// writes it as the socket drains. One request at a time per connection.
void Connection::submit_write() {
  auto* request = new WriteRequest;
  request->connection = this;
  request->start = written_;
  request->first_skip = output_offset_;
  std::array<uv_buf_t, kMaxBuffersPerWrite> buffers;
  Fifo<Outgoing>& output = wire_queue();
  const std::size_t count = std::min(output.size(), buffers.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t skip = (i == 0) ? output_offset_ : 0;
    const std::string& bytes = *output.front().bytes;
    buffers[i] =
        uv_buf_init(const_cast<char*>(bytes.data() + skip), static_cast<unsigned int>(bytes.size() - skip));
    request->bytes += bytes.size() - skip;
    request->entries.push_back(std::move(output.front()));
    output.pop_front();
    output_offset_ = 0;
  }
  request->request.data = request;
  const int status =
      uv_write(&request->request, stream(), buffers.data(), static_cast<unsigned int>(count), on_write);
  if (status < 0) {
    delete request;
    server_.on_connection_lost(*this);
    return;
  }
  write_in_flight_ = request;
}

void Connection::on_write(uv_write_t* raw, int status) {
  auto* request = static_cast<WriteRequest*>(raw->data);
  Connection* self = request->connection;
  self->write_in_flight_ = nullptr;
  self->pending_bytes_ -= std::min(self->pending_bytes_, request->bytes);
  if (status == 0) {
    self->note_progress();
    std::uint64_t end = request->start - request->first_skip;
    for (const Outgoing& entry : request->entries) {
      end += entry.bytes->size();
      if (entry.message != 0) self->note_in_kernel(end, entry.message);
    }
    self->written_ += request->bytes;
  }
  delete request;
  if (self->state_ == State::kClosing) return;
  if (status < 0) {
    log(LogLevel::kDebug, "connection " + std::to_string(self->id_) + ": write: " + uv_strerror(status));
    self->server_.on_connection_lost(*self);
    return;
  }
  self->check_drained();
  self->server_.schedule_flush(*self);
}

}  // namespace uvchat::net
