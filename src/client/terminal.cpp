#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>

namespace uvchat::client {
namespace {

constexpr std::size_t kDefaultColumns = 80;

}  // namespace

Terminal::Terminal(uv_loop_t* loop, BytesHandler on_bytes, ResizeHandler on_resize)
    : on_bytes_(std::move(on_bytes)), on_resize_(std::move(on_resize)) {
  uv_tty_init(loop, &input_, STDIN_FILENO, 1);
  uv_signal_init(loop, &winch_);
  input_.data = this;
  winch_.data = this;
}

int Terminal::open() {
  if (const int status = uv_tty_set_mode(&input_, UV_TTY_MODE_RAW); status != 0) return status;
  open_ = true;
  uv_signal_start(&winch_, on_winch, SIGWINCH);
  return uv_read_start(reinterpret_cast<uv_stream_t*>(&input_), on_alloc, on_read);
}

void Terminal::close() {
  if (open_) uv_tty_reset_mode();
  open_ = false;
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&input_), reinterpret_cast<uv_handle_t*>(&winch_)}) {
    if (!uv_is_closing(handle)) uv_close(handle, nullptr);
  }
}

std::size_t Terminal::columns() const {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return kDefaultColumns;
  return size.ws_col;
}

void Terminal::write(std::string_view bytes) const {
  while (!bytes.empty()) {
    const ssize_t written = ::write(STDOUT_FILENO, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // the terminal is gone; there is no one to tell
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void Terminal::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<Terminal*>(handle->data);
  *buf = uv_buf_init(self->buffer_, sizeof self->buffer_);
}

void Terminal::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Terminal*>(stream->data);
  if (nread > 0) {
    self->on_bytes_(std::string_view(buf->base, static_cast<std::size_t>(nread)));
  } else if (nread < 0) {
    // The terminal went away (hang-up): as Ctrl-C, which quits.
    uv_read_stop(stream);
    self->on_bytes_(std::string_view("\x03", 1));
  }
}

void Terminal::on_winch(uv_signal_t* handle, int) { static_cast<Terminal*>(handle->data)->on_resize_(); }

}  // namespace uvchat::client
