// The terminal the client runs in: standard input read in raw mode (every
// key as it is typed, no echo), standard output written to, and the
// window's width. Only the bytes; the line editor makes sense of them.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <string_view>

namespace uvchat::client {

class Terminal {
 public:
  using BytesHandler = std::function<void(std::string_view)>;
  using ResizeHandler = std::function<void()>;

  Terminal(uv_loop_t* loop, BytesHandler on_bytes, ResizeHandler on_resize);
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Puts the terminal in raw mode and starts reading; a libuv error, or 0.
  int open();
  // Puts the terminal back as it was and closes the handles. Idempotent.
  void close();

  std::size_t columns() const;
  // Written at once (a terminal is quick to take a line).
  void write(std::string_view bytes) const;

 private:
  static void on_alloc(uv_handle_t* handle, std::size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_winch(uv_signal_t* handle, int signal);

  BytesHandler on_bytes_;
  ResizeHandler on_resize_;
  uv_tty_t input_{};
  uv_signal_t winch_{};
  bool open_ = false;
  char buffer_[256];
};

}  // namespace uvchat::client
