// One client connection: its socket, its input ring, its output queue.
#pragma once

#include <uv.h>

#include <cstddef>
#include <deque>
#include <string>

#include "uvchat/chat/effects.hpp"
#include "uvchat/net/token_bucket.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::net {

class Server;

struct ConnectionLimits {
  std::size_t max_line = 4096;
  std::size_t max_outbuf = 1 << 20;   // bytes waiting to be written; 0: none
  std::size_t hard_outbuf = 8 << 20;  // waiting at any time; see check_output_limit
  double rate = 20;                   // lines a second; 0: no limit
  double burst = 50;
};

// The connection only moves bytes: it reads into its ring and tells the
// server, and it writes what the server queued for it. Lines and their
// meaning are the server's (codec) and the hub's business.
//
// Output is never written from where it is produced: send() queues it and
// asks the server to flush, and the server flushes every connection with
// pending output once per loop turn, just before the loop sleeps. So the
// lines one turn produces for a client leave in one write.
//
// A connection is freed only in its close callback; until then the server
// may hold pointers to it.
class Connection {
 public:
  enum class State {
    kOpen,      // reading and writing
    kDraining,  // not reading; closes once its output is written
    kClosing,   // uv_close called; freed in the close callback
  };

  Connection(Server& server, chat::SessionId id, const ConnectionLimits& limits);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  chat::SessionId id() const { return id_; }
  State state() const { return state_; }
  uv_tcp_t* tcp() { return &tcp_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  const std::string& peer() const { return peer_; }
  void set_peer(std::string peer) { peer_ = std::move(peer); }

  protocol::RingBuffer& input() { return input_; }
  protocol::Framer& framer() { return framer_; }

  int start_reading();
  // The hub may hold a session's input (while a password is checked): no
  // more lines are taken from the ring, and no more bytes read, until
  // resume. Resuming is done by the server outside any callback of ours.
  void pause_input();
  void resume_input();
  // Flood control: a line may be taken now, or the connection must wait
  // (throttle) until the time it is told, and is then let go (unthrottle).
  bool may_take_line(std::uint64_t now_ms);
  void take_line() { bucket_.take(); }
  std::uint64_t throttle(std::uint64_t now_ms);
  void unthrottle();
  // Lines may be taken from the ring: open, not paused, not throttled.
  bool takes_input() const { return state_ == State::kOpen && !input_paused_ && !throttled_; }
  // libuv stops reading by itself at end of input.
  void note_end_of_input() {
    input_ended_ = true;
    reading_ = false;
  }
  // Output the kernel would not take is bounded twice over, as in Redis: a
  // client with more than max_outbuf bytes waiting and none of it taken for
  // kSoftLimitMs, or more than hard_outbuf at any time, is not reading, and
  // is marked too slow (the server cuts it). Called after each write
  // attempt and once a second. A client that reads, however slowly, keeps
  // going: a long replay through a small TCP window passes.
  void check_output_limit(std::uint64_t now_ms);
  bool too_slow() const { return too_slow_; }
  static constexpr std::uint64_t kSoftLimitMs = 5000;
  // `message`: a DM whose id the server is told once its bytes are in the
  // socket (Server::on_delivered); 0 for anything else.
  void send(chat::Payload payload, chat::MessageId message = 0);
  // Stops reading, and closes once all queued output has been written.
  void close_after_flush();
  // Closes at once; queued output is dropped.
  void close_now();
  // Writes queued output: uv_try_write first, uv_write for what is left.
  void flush();

  // Set while the connection is on the server's list of ones to flush.
  bool flush_scheduled = false;

  std::size_t pending_bytes() const { return pending_bytes_; }
  bool has_pending_output() const { return !output_.empty() || write_in_flight_; }
  // The loop time (ms) by which a draining connection must be closed.
  std::uint64_t drain_deadline() const { return drain_deadline_; }

 private:
  struct WriteRequest;
  struct Outgoing {
    chat::Payload bytes;
    chat::MessageId message = 0;
  };

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_close(uv_handle_t* handle);

  void drop_written(std::size_t bytes);
  // Bytes reached the kernel: a client over the soft bound is reading.
  void note_progress();
  void submit_write();
  // Reads while lines may be taken and the peer may still send.
  void update_reading();

  Server& server_;
  chat::SessionId id_;
  uv_tcp_t tcp_{};
  State state_ = State::kOpen;
  std::string peer_;
  protocol::RingBuffer input_;
  protocol::Framer framer_;

  std::deque<Outgoing> output_;    // not yet handed to the kernel
  std::size_t output_offset_ = 0;  // bytes of output_.front() already written
  std::size_t pending_bytes_ = 0;  // queued and in flight
  bool write_in_flight_ = false;
  bool input_paused_ = false;
  bool input_ended_ = false;
  bool throttled_ = false;
  bool reading_ = false;
  bool too_slow_ = false;
  bool over_limit_ = false;
  std::uint64_t over_limit_since_ = 0;
  std::size_t max_outbuf_;
  std::size_t hard_outbuf_;
  TokenBucket bucket_;
  std::uint64_t drain_deadline_ = 0;
};

}  // namespace uvchat::net
