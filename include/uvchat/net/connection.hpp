// One client connection: its socket, its input ring, its output queue.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uvchat/chat/effects.hpp"
#include "uvchat/door/codec.hpp"
#include "uvchat/fifo.hpp"
#include "uvchat/net/cut_wait.hpp"
#include "uvchat/net/token_bucket.hpp"
#include "uvchat/protocol/framer.hpp"
#include "uvchat/protocol/ring_buffer.hpp"

namespace uvchat::net {

class Server;
class TlsContext;
class TlsSession;

// One for all connections (the server's), referred to, not copied: a
// connection is small, and a changed limit applies to everyone at once.
struct ConnectionLimits {
  std::size_t max_line = 4096;
  std::size_t max_outbuf = 1 << 20;   // bytes waiting to be written; 0: none
  std::size_t hard_outbuf = 8 << 20;  // waiting at any time; see check_output_limit
  FloodLimit flood;
  std::size_t page_bytes = 256 * 1024;  // see watch_output
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
  enum class State : std::uint8_t {
    kOpen,      // reading and writing
    kDraining,  // not reading; closes once its output is written
    kCutting,   // not reading or writing more; reset once the client's TCP
                // acknowledged what it was sent (see begin_cut)
    kClosing,   // uv_close called; freed in the close callback
  };

  // `limits` are the server's, and outlive every connection.
  Connection(Server& server, chat::SessionId id, const ConnectionLimits& limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  chat::SessionId id() const { return id_; }
  State state() const { return state_; }
  uv_tcp_t* tcp() { return &tcp_; }
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  protocol::RingBuffer& input() { return input_; }
  protocol::Framer& framer() { return framer_; }
  // The next frame from the client: a line out of the ring, or, once the
  // door made the connection a WebSocket, a message out of its frames
  // (control frames owed to the client, a pong or a close, are queued).
  bool next_frame(protocol::Frame& frame);
  // The door answered 101: the bytes after the line just taken are
  // WebSocket frames.
  void start_websocket() { framer_.drop_taken(input_); }
  // The door's WebSocket reader, once the door made the connection one;
  // null before, and for every other door.
  protocol::WebSocketReader* websocket() { return own_codec_ ? own_codec_->websocket() : nullptr; }
  // The client ended its WebSocket (a close frame, or one that broke the
  // protocol and was answered with a close): its input is over.
  bool websocket_ended();

  // The codec of the connection's door: one of its own, or the server's
  // native codec. Until its first line picks (Server::pick_door) it is the
  // native one, so what the hub may say first (server-full, a timeout) is
  // in the native door's words.
  door::Codec& codec();
  bool door_picked() const { return door_picked_; }
  // The server's native codec, or one of its own.
  void pick_native_door() { door_picked_ = true; }
  void pick_door(std::unique_ptr<door::Codec> own);

  // TLS (connection_tls.cpp). With a certificate configured, the server
  // looks at a connection's first bytes (Server::on_first_bytes) before
  // anything reads them as lines.
  void sniff_first_bytes() { sniffing_ = true; }
  // The bytes already in the ring were a ClientHello: from now on the
  // socket carries TLS records, and the ring plaintext.
  void start_tls(std::shared_ptr<const TlsContext> context);
  bool uses_tls() const { return tls_ != nullptr; }
  const TlsSession* tls_session() const;
  // The handshake was done once (it may be under way again: a KeyUpdate).
  bool tls_established() const;
  enum class TlsInput : std::uint8_t {
    kNone,    // nothing more to read until more arrives (or no TLS)
    kLines,   // plaintext went into the ring
    kClosed,  // close_notify: the end of input
    kFailed,  // the peer broke TLS; it was told with an alert
  };
  // Decrypts what arrived into the ring, as much as fits.
  TlsInput decrypt_input();

  int start_reading();
  // The hub may hold a session's input (while a password is checked): no
  // more lines are taken from the ring, and no more bytes read, until
  // resume. Resuming is done by the server outside any callback of ours.
  void pause_input();
  void resume_input();
  // Flood control: a line may be taken now, or the connection must wait
  // (throttle) until the time it is told, and is then let go (unthrottle).
  bool may_take_line(std::uint64_t now_ms);
  void take_line();
  std::uint64_t throttle(std::uint64_t now_ms);
  void unthrottle();
  // Lines may be taken from the ring: open, not paused, not throttled.
  bool takes_input() const { return state_ == State::kOpen && !input_paused_ && !throttled_ && !store_hold_; }
  // The store is far behind: no line is taken until it catches up.
  void hold_for_store();
  void release_for_store();
  // libuv stops reading by itself at end of input.
  // Over TLS the end is close_notify, and the socket is still read: it stops.
  void note_end_of_input();
  bool input_ended() const { return input_ended_; }
  // Output the kernel would not take is bounded twice over, as in Redis: a
  // client with more than max_outbuf bytes waiting (or owing the hub a page,
  // watch_output) and none of it taken for kSoftLimitMs, or more than
  // hard_outbuf at any time, is not reading, and is marked too slow (the
  // server cuts it). Called after each write attempt and once a second. A
  // client that reads, however slowly, keeps going: a long replay through a
  // small TCP window passes.
  void check_output_limit(std::uint64_t now_ms);
  bool too_slow() const { return too_slow_; }
  // The hub has more of an answer for this client: the server is told
  // (Server::on_output_drained) once no more than a page of output is
  // left to hand to the kernel, now or after a write.
  void watch_output();
  static constexpr std::uint64_t kSoftLimitMs = 5000;
  // `message`: a DM whose id the server is told once it is delivered
  // (Server::on_delivered); 0 for anything else. A DM is delivered once the
  // client's TCP has acknowledged its last byte, or once it was written to
  // a connection closed in order: see release_acknowledged and close_now.
  void send(chat::Payload payload, chat::MessageId message = 0);
  // Stops reading, and closes once all queued output has been written.
  void close_after_flush();
  // Closes at once, in order: queued output is dropped, and what the
  // kernel holds is sent before the FIN, so it counts as delivered.
  void close_now();
  // Closes at once with a TCP reset, for a connection that is broken or
  // not reading: the kernel drops what it holds, so only the DMs the client
  // has acknowledged count as delivered; the rest stay queued in the store.
  void abort();
  // Cutting off a client that does not read: begin_cut stops reading and
  // writing; the server then looks at send_queue() until nothing sent is
  // unacknowledged (CutWait), says the last words, looks once more, and
  // resets straight after that last look, with the number it gave, so that
  // exactly the DMs the client can still read count as delivered.
  void begin_cut();
  // What the client's TCP has acknowledged, and what is sent but not yet.
  SendQueueSample send_queue() const;
  // Writes `words` if the socket has room for them now, between lines.
  void say_last_words(std::string_view words);
  // abort(), counting as delivered the DMs within the first `acknowledged`
  // bytes of the stream.
  void reset(std::uint64_t acknowledged);
  // Reports the DMs the client's TCP has acknowledged since last asked.
  void release_acknowledged();
  bool awaits_acknowledgement() const { return !unacknowledged_.empty(); }
  // Writes queued output: uv_try_write first, uv_write for what is left.
  void flush();

  std::size_t pending_bytes() const { return pending_bytes_; }
  bool has_pending_output() const;
  // The loop time (ms) by which a draining connection must be closed.
  std::uint64_t drain_deadline() const { return deadline_; }

  // Set while the connection is on the server's list of ones to flush.
  bool flush_scheduled = false;

 private:
  // The flags first, beside flush_scheduled, so that they share one word:
  // there may be tens of thousands of connections.
  State state_ = State::kOpen;
  bool input_paused_ = false;
  bool input_ended_ = false;
  bool throttled_ = false;
  bool store_hold_ = false;
  bool reading_ = false;
  bool too_slow_ = false;
  bool over_limit_ = false;
  bool watching_ = false;
  bool sniffing_ = false;
  bool door_picked_ = false;
  // Bytes of output_.front() already written (a payload is far below 4 GiB);
  // here, it fills the padding after the flags.
  std::uint32_t output_offset_ = 0;

  struct WriteRequest;
  struct Outgoing {
    chat::Payload bytes;
    chat::MessageId message = 0;
  };

  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* request, int status);
  static void on_close(uv_handle_t* handle);

  // The queue writes take bytes from: the lines themselves, or with TLS
  // the records they were sealed into.
  Fifo<Outgoing>& wire_queue();
  void drop_written(std::size_t bytes);
  // TLS: seals queued lines into records (up to kSealAhead of them waiting)
  // and hands what the session has to send to the wire queue.
  void seal_output();
  bool take_tls_output();
  // TLS: drops lines that can never be sealed (no handshake yet).
  void drop_plaintext();
  void send_close_notify();
  // TLS: ciphertext that arrived; the lines in it go to the server.
  void receive_tls(std::span<const char> ciphertext);
  void say_last_words_tls(std::string_view words);
  bool tls_wire_empty() const;
  // Where TLS connections read their ciphertext: one buffer for all, since
  // libuv hands each read to its callback at once.
  static uv_buf_t tls_read_buffer();
  // Hands `bytes` to the kernel now if it takes them, outside the queues:
  // last words, a close_notify. What it takes counts as written.
  void write_now(std::string_view bytes);
  // A DM whose last byte is byte `end` of the stream is in the kernel.
  void note_in_kernel(std::uint64_t end, chat::MessageId message);
  // Bytes of the stream handed to the kernel so far, by any write.
  std::uint64_t bytes_in_kernel() const;
  // Bytes the client's TCP has acknowledged; all in the kernel if unknown.
  std::uint64_t bytes_acknowledged() const;
  std::optional<std::uint64_t> unacknowledged_in_kernel() const;
  std::optional<std::uint64_t> kernel_queue(unsigned long request) const;
  void release_up_to(std::uint64_t acknowledged);
  void release_all();
  // Bytes reached the kernel: a client over the soft bound is reading.
  void note_progress();
  void check_drained();
  void submit_write();
  // Reads while lines may be taken and the peer may still send.
  void update_reading();

  Server& server_;
  chat::SessionId id_;
  uv_tcp_t tcp_{};
  protocol::RingBuffer input_;
  protocol::Framer framer_;

  Fifo<Outgoing> output_;          // not yet handed to the kernel
  std::size_t pending_bytes_ = 0;  // queued and in flight
  WriteRequest* write_in_flight_ = nullptr;
  // DMs in the kernel that the client has not acknowledged yet, oldest
  // first, by the stream offset of their end. Bounded by the kernel's send
  // buffer; released in flush, once a second, and at the close.
  struct InKernel {
    std::uint64_t end;
    chat::MessageId message;
  };
  std::vector<InKernel> unacknowledged_;
  std::uint64_t written_ = 0;  // bytes handed to the kernel by finished writes
  std::uint64_t over_limit_since_ = 0;
  std::uint64_t taken_mark_ = 0;  // bytes_acknowledged() when over_limit_since_ was set
  const ConnectionLimits& limits_;
  TokenBucket bucket_;
  // Loop time (ms) by which a draining connection is closed.
  std::uint64_t deadline_ = 0;
  struct Tls;
  std::unique_ptr<Tls> tls_;  // null for plain text
  std::unique_ptr<door::Codec> own_codec_;  // null: the server's native codec
};

}  // namespace uvchat::net
