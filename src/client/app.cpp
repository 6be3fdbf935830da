#include "app.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <utility>

#include "known_servers_file.hpp"
#include "uvchat/client/trust.hpp"

namespace uvchat::client {
namespace {

// A server line longer than this is cut: the server's own limit is far
// below, so only a stranger's server sends one.
constexpr std::size_t kLongestServerLine = 64 * 1024;

// A server that takes the connection but never finishes the handshake (a
// plain-text server waits for a line that never comes) is given up on
// after this, as a connection that failed.
constexpr std::uint64_t kHandshakeTimeoutMs = 10'000;

constexpr std::string_view kBold = "\x1b[1m";
constexpr std::string_view kRed = "\x1b[31m";
constexpr std::string_view kCyan = "\x1b[36m";
constexpr std::string_view kReset = "\x1b[0m";

bool wants_colour() {
  const char* no_colour = std::getenv("NO_COLOR");
  return ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

std::uint64_t seed_from_clock() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         static_cast<std::uint64_t>(::getpid());
}

SessionConfig session_config(const ClientOptions& options, bool interactive) {
  SessionConfig config;
  config.server = options.host + ":" + options.port;
  config.name = options.name;
  config.password = options.password;
  config.interactive = interactive;
  config.reconnect = options.reconnect;
  config.tls = options.tls;
  config.seed = seed_from_clock();
  return config;
}

struct WriteRequest {
  uv_write_t request{};
  std::string bytes;
};

void close_handle(uv_handle_t* handle) {
  if (uv_is_closing(handle) == 0) uv_close(handle, nullptr);
}

}  // namespace

// One connection attempt. Freed when its socket has closed, or, if it never
// got one, when the name lookup answers.
struct App::Link {
  ~Link() {
    if (addresses != nullptr) uv_freeaddrinfo(addresses);
  }
  App* app = nullptr;
  // Every address the name resolved to, tried in turn (localhost may be ::1
  // first while the server listens on 127.0.0.1 only).
  addrinfo* addresses = nullptr;
  addrinfo* trying = nullptr;
  uv_getaddrinfo_t resolve{};
  uv_connect_t connect{};
  uv_tcp_t tcp{};
  bool has_socket = false;
  bool connected = false;
  bool dropped = false;
  bool broken = false;  // the server closed it, or it failed: no close_notify
  std::string partial;
  char buffer[16 * 1024];
  // Over TLS: the session, whether the server's certificate was looked at
  // yet (the handshake is done), and room for what is decrypted.
  std::unique_ptr<net::TlsSession> tls;
  bool identity_checked = false;
  char plaintext[16 * 1024];
};

App::App(uv_loop_t* loop, ClientOptions options, bool interactive)
    : loop_(loop),
      options_(std::move(options)),
      interactive_(interactive),
      colour_(interactive && wants_colour()),
      session_(session_config(options_, interactive)) {
  uv_timer_init(loop_, &handshake_timer_);
  uv_timer_init(loop_, &reconnect_timer_);
  uv_timer_init(loop_, &quit_timer_);
  uv_signal_init(loop_, &sigint_);
  uv_signal_init(loop_, &sigterm_);
  handshake_timer_.data = reconnect_timer_.data = quit_timer_.data = this;
  sigint_.data = sigterm_.data = this;
}

App::~App() = default;

int App::run() {
  uv_signal_start(&sigint_, on_signal, SIGINT);
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  if (options_.tls) {
    std::string error;
    tls_context_ = net::TlsContext::client(options_.tls_ca, error);
    if (!tls_context_) {
      std::fprintf(stderr, "uvchat: %s\n", error.c_str());
      exit_with(2);
      uv_run(loop_, UV_RUN_DEFAULT);
      return 2;
    }
  }
  if (interactive_) {
    terminal_ = std::make_unique<Terminal>(
        loop_, [this](std::string_view bytes) { on_typed_bytes(bytes); },
        [this] {
          editor_.set_columns(terminal_->columns());
          redraw();
        });
    if (const int status = terminal_->open(); status != 0) {
      std::fprintf(stderr, "uvchat: cannot use the terminal: %s\n", uv_strerror(status));
      terminal_->close();
      exit_with(1);
      uv_run(loop_, UV_RUN_DEFAULT);
      return 1;
    }
    editor_.set_columns(terminal_->columns());
  } else {
    start_pipe_input();
  }
  apply(session_.start());
  redraw();
  uv_run(loop_, UV_RUN_DEFAULT);
  return exit_status_ < 0 ? 1 : exit_status_;
}

void App::apply(const Actions& actions) {
  for (const Action& action : actions) apply(action);
}

void App::apply(const Action& action) {
  if (exit_status_ >= 0) return;
  switch (action.kind) {
    case Action::Kind::kConnect: connect(); break;
    case Action::Kind::kTrust: trust_server(action.text); break;
    case Action::Kind::kDisconnect: drop_link(); break;
    case Action::Kind::kSend: send(action.text); break;
    case Action::Kind::kShow: show(action.text, action.tone); break;
    case Action::Kind::kReconnectIn:
      uv_timer_start(
          &reconnect_timer_, [](uv_timer_t* timer) { static_cast<App*>(timer->data)->connect(); }, action.ms,
          0);
      break;
    case Action::Kind::kQuitIn:
      quit_timer_.data = this;
      uv_timer_start(
          &quit_timer_, [](uv_timer_t* timer) { static_cast<App*>(timer->data)->exit_with(0); }, action.ms,
          0);
      break;
    case Action::Kind::kExit: exit_with(action.status); break;
  }
}

// ---- The server connection ----

void App::connect() {
  drop_link();
  auto* link = new Link;
  link->app = this;
  link->resolve.data = link;
  link_ = link;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const int status = uv_getaddrinfo(loop_, &link->resolve, on_resolved, options_.host.c_str(),
                                    options_.port.c_str(), &hints);
  if (status != 0) {
    delete link;
    link_ = nullptr;
    apply(session_.connect_failed(uv_strerror(status)));
  }
}

// Stops listening to the current link; it frees itself.
void App::drop_link(bool close_notify) {
  Link* link = std::exchange(link_, nullptr);
  if (link == nullptr) return;
  link->dropped = true;
  uv_timer_stop(&handshake_timer_);
  if (close_notify && link->tls && !link->broken && link->tls->handshake_done() && !link->tls->failed()) {
    // uv_write writes at once when nothing waits before it, so the alert
    // is on its way before the close below.
    link->tls->shutdown();
    flush_tls(*link);
  }
  if (link->has_socket) {
    uv_close(reinterpret_cast<uv_handle_t*>(&link->tcp),
             [](uv_handle_t* handle) { delete static_cast<Link*>(handle->data); });
  }
}

void App::on_resolved(uv_getaddrinfo_t* request, int status, addrinfo* result) {
  auto* link = static_cast<Link*>(request->data);
  App* app = link->app;
  if (link->dropped) {
    uv_freeaddrinfo(result);
    delete link;
    return;
  }
  if (status != 0) {
    app->link_ = nullptr;
    delete link;
    app->apply(app->session_.connect_failed(uv_strerror(status)));
    return;
  }
  link->addresses = result;
  link->trying = result;
  app->connect_to(*link);
}

void App::connect_to(Link& link) {
  uv_tcp_init(loop_, &link.tcp);
  link.tcp.data = &link;
  link.connect.data = &link;
  link.has_socket = true;
  const int connecting = uv_tcp_connect(&link.connect, &link.tcp, link.trying->ai_addr, on_connected);
  if (connecting != 0) try_next_address(link, connecting);
}

// The next address gets a link of its own: a socket whose connect failed
// is closed, not used again.
void App::try_next_address(Link& link, int status) {
  if (link.trying->ai_next == nullptr) {
    drop_link(false);
    apply(session_.connect_failed(uv_strerror(status)));
    redraw();
    return;
  }
  auto* next = new Link;
  next->app = this;
  next->addresses = std::exchange(link.addresses, nullptr);
  next->trying = link.trying->ai_next;
  drop_link(false);
  link_ = next;
  connect_to(*next);
}

void App::on_connected(uv_connect_t* request, int status) {
  auto* link = static_cast<Link*>(request->data);
  if (link->dropped) return;
  App* app = link->app;
  if (status != 0) {
    app->try_next_address(*link, status);
    return;
  }
  link->connected = true;
  uv_tcp_nodelay(&link->tcp, 1);
  uv_read_start(reinterpret_cast<uv_stream_t*>(&link->tcp), on_alloc, on_read);
  if (app->tls_context_) {
    app->start_tls(*link);
    return;
  }
  app->apply(app->session_.connected());
  app->redraw();
}

void App::on_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* link = static_cast<Link*>(handle->data);
  *buf = uv_buf_init(link->buffer, sizeof link->buffer);
}

void App::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* link = static_cast<Link*>(stream->data);
  if (link->dropped) return;
  App* app = link->app;
  if (nread > 0) {
    const std::string_view bytes(buf->base, static_cast<std::size_t>(nread));
    if (link->tls) {
      app->take_tls_bytes(*link, bytes);
    } else {
      app->take_server_bytes(*link, bytes);
    }
  } else if (nread == UV_EOF) {
    app->lose_link(*link, "the server closed it");
  } else if (nread < 0) {
    app->lose_link(*link, uv_strerror(static_cast<int>(nread)));
  }
}

void App::take_server_bytes(Link& link, std::string_view bytes) {
  while (!bytes.empty() && !link.dropped && exit_status_ < 0) {
    const std::size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
      link.partial.append(
          bytes.substr(0, kLongestServerLine - std::min(kLongestServerLine, link.partial.size())));
      break;
    }
    link.partial.append(bytes.substr(0, end));
    bytes.remove_prefix(end + 1);
    std::string line = std::exchange(link.partial, {});
    if (!line.empty() && line.back() == '\r') line.pop_back();
    apply(session_.server_line(line));
  }
  redraw();
}

void App::lose_link(Link& link, std::string_view why) {
  if (&link != link_) return;
  // Before the handshake is done the client was never connected: a plain
  // server, or one that turned the handshake down.
  const bool in_handshake = link.tls && !link.identity_checked;
  link.broken = true;
  drop_link();
  apply(in_handshake ? session_.connect_failed("no TLS handshake: " + std::string(why) +
                                               "; does the server serve TLS on this port?")
                     : session_.connection_lost(why));
  redraw();
}

void App::send(const std::string& line) {
  if (link_ == nullptr || !link_->connected) return;
  if (!link_->tls) {
    write_bytes(*link_, line + "\n");
    return;
  }
  if (!link_->tls->handshake_done()) return;
  if (!link_->tls->write(line + "\n")) {
    lose_link(*link_, "TLS: " + link_->tls->error());
    return;
  }
  flush_tls(*link_);
}

void App::write_bytes(Link& link, std::string bytes) {
  auto* write = new WriteRequest;
  write->bytes = std::move(bytes);
  write->request.data = write;
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned int>(write->bytes.size()));
  const int status =
      uv_write(&write->request, reinterpret_cast<uv_stream_t*>(&link.tcp), &buf, 1,
               [](uv_write_t* request, int) { delete static_cast<WriteRequest*>(request->data); });
  if (status != 0) delete write;  // the read side reports the broken connection
}

// ---- TLS ----

void App::start_tls(Link& link) {
  link.tls = std::make_unique<net::TlsSession>(tls_context_, net::TlsSession::Role::kClient, options_.host);
  link.tls->start_handshake();
  flush_tls(link);
  if (link.tls->failed()) {
    lose_link(link, link.tls->error());
    return;
  }
  uv_timer_start(&handshake_timer_, on_handshake_timeout, kHandshakeTimeoutMs, 0);
}

void App::on_handshake_timeout(uv_timer_t* timer) {
  auto* self = static_cast<App*>(timer->data);
  if (self->link_ == nullptr || !self->link_->tls || self->link_->identity_checked) return;
  self->lose_link(*self->link_, "no answer within " + std::to_string(kHandshakeTimeoutMs / 1000) + " s");
}

// Every read drains the session: a handshake message, then lines, or an
// alert. Its records for the server (the handshake's, close_notify's)
// leave after each call.
void App::take_tls_bytes(Link& link, std::string_view ciphertext) {
  net::TlsSession& tls = *link.tls;
  tls.receive(std::span<const char>(ciphertext.data(), ciphertext.size()));
  for (;;) {
    const net::TlsSession::ReadResult got = tls.read(link.plaintext);
    flush_tls(link);
    // The server is looked at before a byte it sent is taken as a line.
    if (!link.identity_checked && tls.handshake_done()) {
      check_server(link);
      if (link.dropped || exit_status_ >= 0) return;
    }
    if (got.bytes > 0) {
      take_server_bytes(link, std::string_view(link.plaintext, got.bytes));
      if (link.dropped || exit_status_ >= 0) return;
    }
    if (got.status == net::TlsSession::Status::kClosed) {
      lose_link(link, "the server closed it");
      return;
    }
    if (got.status == net::TlsSession::Status::kFailed) {
      lose_link(link, tls.error());
      return;
    }
    if (got.bytes < sizeof link.plaintext) break;
  }
  tls.keep_unread();
  redraw();
}

void App::flush_tls(Link& link) {
  if (!link.tls->output().empty()) write_bytes(link, link.tls->take_output());
}

void App::check_server(Link& link) {
  link.identity_checked = true;
  uv_timer_stop(&handshake_timer_);
  const net::TlsSession& tls = *link.tls;
  ServerIdentity identity;
  identity.server = server_key(options_.host, options_.port);
  identity.fingerprint = tls.peer_fingerprint();
  identity.verified = tls.peer_verified();
  if (!identity.verified) identity.verify_error = tls.verify_error();
  std::vector<KnownServer> known = read_known_servers(options_.known_servers);
  known.insert(known.end(), trusted_.begin(), trusted_.end());
  apply(session_.server_identity(
      check_trust(std::move(identity), options_.tls_ca, known, options_.known_servers)));
  redraw();
}

void App::trust_server(const std::string& known_server_line) {
  for (KnownServer& entry : parse_known_servers(known_server_line)) trusted_.push_back(std::move(entry));
  const std::string error = append_known_server(options_.known_servers, known_server_line);
  if (error.empty()) {
    show("stored: uvchat will not ask about this server again", Tone::kEvent);
  } else {
    show(error + "; trusted until uvchat exits, and asked again next time", Tone::kError);
  }
}

// ---- What the person sees ----

void App::show(const std::string& text, Tone tone) {
  if (!interactive_) {
    std::FILE* stream = tone == Tone::kError ? stderr : stdout;
    std::fprintf(stream, "%s\n", text.c_str());
    std::fflush(stream);
    return;
  }
  std::string out = LineEditor::clear_line();
  const std::string_view colour = tone == Tone::kError   ? kRed
                                  : tone == Tone::kEvent ? kCyan
                                                         : std::string_view();
  if (colour_ && !colour.empty()) {
    out.append(colour).append(text).append(kReset);
  } else {
    out.append(text);
  }
  out.append("\r\n");
  terminal_->write(out);
}

void App::redraw() {
  if (!interactive_ || exit_status_ >= 0) return;
  const std::string prompt = session_.prompt();
  std::string shown = prompt;
  if (colour_) shown = std::string(kBold) + prompt + std::string(kReset);
  editor_.set_prompt(shown, prompt.size());
  editor_.set_masked(session_.input_mode() == InputMode::kPassword);
  terminal_->write(editor_.render());
}

void App::exit_with(int status) {
  if (exit_status_ >= 0) return;
  exit_status_ = status;
  drop_link();
  if (terminal_) {
    terminal_->write(LineEditor::clear_line());
    terminal_->close();
  }
  if (pipe_open_) close_handle(reinterpret_cast<uv_handle_t*>(&pipe_input_));
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&handshake_timer_), reinterpret_cast<uv_handle_t*>(&reconnect_timer_),
        reinterpret_cast<uv_handle_t*>(&quit_timer_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sigterm_)}) {
    close_handle(handle);
  }
}

// ---- Standard input ----

void App::on_typed_bytes(std::string_view bytes) {
  for (const EditorResult& result : editor_.feed(bytes)) {
    if (exit_status_ >= 0) return;
    switch (result.event) {
      case EditorEvent::kSubmit: {
        // The line stays on screen above the new prompt, as a terminal keeps
        // what was typed; a password does not.
        const bool secret = session_.input_mode() == InputMode::kPassword;
        terminal_->write(LineEditor::clear_line() + session_.prompt() + (secret ? "" : result.line) + "\r\n");
        apply(session_.typed(result.line));
        break;
      }
      case EditorEvent::kEndOfInput: apply(session_.end_of_input()); break;
      case EditorEvent::kInterrupt: apply(session_.interrupted()); break;
    }
  }
  redraw();
}

void App::start_pipe_input() {
  if (uv_guess_handle(STDIN_FILENO) != UV_NAMED_PIPE) {
    read_file_input();
    return;
  }
  uv_pipe_init(loop_, &pipe_input_, 0);
  pipe_input_.data = this;
  pipe_open_ = true;
  if (uv_pipe_open(&pipe_input_, STDIN_FILENO) != 0 ||
      uv_read_start(reinterpret_cast<uv_stream_t*>(&pipe_input_), on_pipe_alloc, on_pipe_read) != 0) {
    close_handle(reinterpret_cast<uv_handle_t*>(&pipe_input_));
    pipe_open_ = false;
    read_file_input();
  }
}

// A file (or /dev/null) cannot be watched by the loop; it is read at once,
// and its lines wait in the session until the welcome.
void App::read_file_input() {
  char buffer[4096];
  for (;;) {
    const ssize_t count = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (count > 0) {
      take_pipe_bytes(std::string_view(buffer, static_cast<std::size_t>(count)));
    } else if (count < 0 && errno == EINTR) {
      continue;
    } else {
      break;
    }
  }
  if (!pipe_partial_.empty()) apply(session_.typed(std::exchange(pipe_partial_, {})));
  apply(session_.end_of_input());
}

void App::on_pipe_alloc(uv_handle_t* handle, std::size_t, uv_buf_t* buf) {
  auto* self = static_cast<App*>(handle->data);
  *buf = uv_buf_init(self->pipe_buffer_, sizeof self->pipe_buffer_);
}

void App::on_pipe_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<App*>(stream->data);
  if (nread > 0) {
    self->take_pipe_bytes(std::string_view(buf->base, static_cast<std::size_t>(nread)));
    return;
  }
  if (nread == 0) return;
  uv_read_stop(stream);
  if (!self->pipe_partial_.empty()) self->apply(self->session_.typed(std::exchange(self->pipe_partial_, {})));
  self->apply(self->session_.end_of_input());
}

void App::take_pipe_bytes(std::string_view bytes) {
  for (std::size_t end = bytes.find('\n'); end != std::string_view::npos; end = bytes.find('\n')) {
    pipe_partial_.append(bytes.substr(0, end));
    bytes.remove_prefix(end + 1);
    std::string line = std::exchange(pipe_partial_, {});
    if (!line.empty() && line.back() == '\r') line.pop_back();
    apply(session_.typed(line));
  }
  pipe_partial_.append(bytes);
}

void App::on_signal(uv_signal_t* handle, int) {
  auto* self = static_cast<App*>(handle->data);
  self->apply(self->session_.interrupted());
}

}  // namespace uvchat::client
