#include "uvchat/net/connection.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "uvchat/log.hpp"
#include "uvchat/net/server.hpp"

namespace uvchat::net {
namespace {

// Buffers in one write. Far below IOV_MAX (1024 on Linux); a client with
// more queued than this gets the rest in the next write.
constexpr std::size_t kMaxBuffersPerWrite = 64;

// How long a closing connection may take to take its last lines.
constexpr std::uint64_t kDrainTimeoutMs = 5000;

}  // namespace

// A uv_write in flight holds references to the payloads it writes, so a
// payload shared with other connections lives until every write of it ends.
struct Connection::WriteRequest {
  uv_write_t request{};
  Connection* connection = nullptr;
  std::vector<Outgoing> entries;
  std::size_t bytes = 0;
};

Connection::Connection(Server& server, chat::SessionId id, const ConnectionLimits& limits)
    : server_(server),
      id_(id),
      input_(protocol::Framer::buffer_capacity(limits.max_line)),
      framer_(limits.max_line),
      max_outbuf_(limits.max_outbuf),
      hard_outbuf_(limits.hard_outbuf),
      bucket_(limits.rate, limits.burst) {
  tcp_.data = this;
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

bool Connection::may_take_line(std::uint64_t now_ms) { return bucket_.has_token(now_ms); }

std::uint64_t Connection::throttle(std::uint64_t now_ms) {
  throttled_ = true;
  update_reading();
  return bucket_.next_token_at(now_ms);
}

void Connection::unthrottle() {
  throttled_ = false;
  update_reading();
}

void Connection::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(handle->data);
  // Read straight into the ring. It is never full here: the framer empties
  // a full ring that holds no line end.
  const std::span<char> space = self->input_.writable();
  *buf = uv_buf_init(space.data(), static_cast<unsigned int>(space.size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    self->input_.commit(static_cast<std::size_t>(nread));
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

void Connection::send(chat::Payload payload, chat::MessageId message) {
  if (state_ == State::kClosing || too_slow_ || payload->empty()) return;
  pending_bytes_ += payload->size();
  output_.push_back(Outgoing{std::move(payload), message});
  server_.schedule_flush(*this);
}

void Connection::check_output_limit(std::uint64_t now_ms) {
  if (max_outbuf_ == 0 || too_slow_ || state_ == State::kClosing) return;
  if (pending_bytes_ <= max_outbuf_) {
    over_limit_ = false;
    return;
  }
  if (!over_limit_) {
    over_limit_ = true;
    over_limit_since_ = now_ms;
  }
  if (pending_bytes_ > hard_outbuf_ || now_ms - over_limit_since_ >= kSoftLimitMs) {
    too_slow_ = true;
    server_.on_too_slow(*this);
  }
}

void Connection::close_after_flush() {
  if (state_ != State::kOpen) return;
  state_ = State::kDraining;
  update_reading();
  drain_deadline_ = uv_now(tcp_.loop) + kDrainTimeoutMs;
  if (!has_pending_output()) {
    close_now();
    return;
  }
  server_.schedule_flush(*this);
}

void Connection::close_now() {
  if (state_ == State::kClosing) return;
  state_ = State::kClosing;
  output_.clear();
  pending_bytes_ = 0;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_close);
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
  while (bytes > 0) {
    const std::size_t left_in_front = output_.front().bytes->size() - output_offset_;
    if (bytes < left_in_front) {
      output_offset_ += bytes;
      return;
    }
    bytes -= left_in_front;
    if (output_.front().message != 0) server_.on_delivered(output_.front().message);
    output_.pop_front();
    output_offset_ = 0;
  }
}

void Connection::flush() {
  if (state_ == State::kClosing || write_in_flight_) return;
  if (!output_.empty()) {
    std::array<uv_buf_t, kMaxBuffersPerWrite> buffers;
    const std::size_t count = std::min(output_.size(), buffers.size());
    for (std::size_t i = 0; i < count; ++i) {
      const std::string& bytes = *output_[i].bytes;
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
    if (!output_.empty()) submit_write();
  }
  if (state_ == State::kDraining && !has_pending_output()) close_now();
}

// The kernel did not take everything: hand the rest to uv_write, which
// writes it as the socket drains. One request at a time per connection.
void Connection::submit_write() {
  auto* request = new WriteRequest;
  request->connection = this;
  std::array<uv_buf_t, kMaxBuffersPerWrite> buffers;
  const std::size_t count = std::min(output_.size(), buffers.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t skip = (i == 0) ? output_offset_ : 0;
    const std::string& bytes = *output_.front().bytes;
    buffers[i] =
        uv_buf_init(const_cast<char*>(bytes.data() + skip), static_cast<unsigned int>(bytes.size() - skip));
    request->bytes += bytes.size() - skip;
    request->entries.push_back(std::move(output_.front()));
    output_.pop_front();
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
  write_in_flight_ = true;
}

void Connection::on_write(uv_write_t* raw, int status) {
  auto* request = static_cast<WriteRequest*>(raw->data);
  Connection* self = request->connection;
  self->write_in_flight_ = false;
  self->pending_bytes_ -= std::min(self->pending_bytes_, request->bytes);
  if (status == 0) {
    self->note_progress();
    for (const Outgoing& entry : request->entries) {
      if (entry.message != 0) self->server_.on_delivered(entry.message);
    }
  }
  delete request;
  if (self->state_ == State::kClosing) return;
  if (status < 0) {
    log(LogLevel::kDebug, "connection " + std::to_string(self->id_) + ": write: " + uv_strerror(status));
    self->server_.on_connection_lost(*self);
    return;
  }
  self->server_.schedule_flush(*self);
}

}  // namespace uvchat::net
