#include "uvchat/door/web.hpp"

#include <string>

#include "uvchat/door/irc.hpp"
#include "uvchat/protocol/text.hpp"
#include "uvchat/protocol/websocket.hpp"
#include "uvchat/web/assets.hpp"

namespace uvchat::door {
namespace {

using chat::EventKind;
using protocol::HttpRequest;
using protocol::HttpRequestReader;

// What every response says besides its own headers. The page runs no
// inline script and loads nothing from anywhere else (docs/WEB.md), and
// nobody may frame it or learn where a user came from.
constexpr std::string_view kCommonHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cross-Origin-Resource-Policy: same-origin\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\n";

constexpr std::string_view kHttpVersion = "HTTP/1.1 ";

bool is_get_or_head(std::string_view method) { return method == "GET" || method == "HEAD"; }

// The subprotocol to speak, from the client's offer; empty when it offered
// some and none is spoken here, "uvchat" when it offered none.
std::string_view pick_protocol(const HttpRequest& request, bool irc) {
  const std::string* offered = request.header("sec-websocket-protocol");
  if (offered == nullptr) return WebCodec::kNativeProtocol;
  if (request.has_token("sec-websocket-protocol", WebCodec::kNativeProtocol)) return WebCodec::kNativeProtocol;
  if (irc && request.has_token("sec-websocket-protocol", WebCodec::kIrcProtocol)) return WebCodec::kIrcProtocol;
  return {};
}

}  // namespace

WebCodec::WebCodec(const Settings& settings, Codec& native) : settings_(settings), native_(native) {}

WebCodec::~WebCodec() = default;

chat::SessionTraits WebCodec::traits() const { return inner_ ? inner_->traits() : chat::SessionTraits{}; }

void WebCodec::on_frame(const protocol::Frame& frame, CodecSink& sink) {
  if (inner_) {
    inner_->on_frame(frame, sink);
    return;
  }
  if (closing_) return;  // the rest of a connection told it closes
  HttpRequestReader::Status status = HttpRequestReader::Status::kMore;
  switch (frame.kind) {
    case protocol::FrameKind::kLine: status = reader_.line(frame.line); break;
    case protocol::FrameKind::kTooLong: status = reader_.line_too_long(); break;
    case protocol::FrameKind::kBadUtf8: status = reader_.bad_line(); break;
  }
  if (status == HttpRequestReader::Status::kMore) return;
  ++requests_;
  if (status == HttpRequestReader::Status::kFailed) {
    answer_error(reader_.error(), reader_.reason(), {}, /*close=*/true, sink);
  } else {
    respond(reader_.request(), sink);
  }
  reader_.reset();
}

void WebCodec::respond(const HttpRequest& request, CodecSink& sink) {
  if (!is_get_or_head(request.method)) {
    answer_error(405, "only GET and HEAD are served here", "Allow: GET, HEAD\r\n", true, sink);
    return;
  }
  // Nothing here takes a body, and one not read would be taken for the
  // next request: such a request is answered and the connection closed.
  const std::string* length = request.header("content-length");
  if (request.header("transfer-encoding") != nullptr || (length != nullptr && *length != "0")) {
    answer_error(400, "requests with a body are not taken here", {}, true, sink);
    return;
  }
  const bool close = !request.keep_alive() || requests_ >= kMaxRequests;
  if (request.target == "/ws") {
    upgrade(request, sink);
    return;
  }
  const bool head = request.method == "HEAD";
  if (request.target == "/healthz") {
    answer(200, "Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n", "ok\n", head, close,
           sink);
    return;
  }
  const web::Asset* asset = web::find_asset(request.target);
  if (asset == nullptr) {
    answer_error(404, "there is no such page here", {}, close, sink);
    return;
  }
  std::string headers = "ETag: ";
  headers.append(asset->etag).append("\r\nCache-Control: no-cache\r\n");
  const std::string* match = request.header("if-none-match");
  if (match != nullptr && (*match == asset->etag || request.has_token("if-none-match", asset->etag))) {
    answer(304, headers, {}, /*head_only=*/true, close, sink);
    return;
  }
  headers.append("Content-Type: ").append(asset->content_type).append("\r\n");
  answer(200, headers, asset->body, head, close, sink);
}

bool WebCodec::origin_allowed(const HttpRequest& request) const {
  const std::string* origin = request.header("origin");
  // Only browsers send an Origin, and they always do: a program without
  // one is not a page another site could have opened (docs/WEB.md).
  if (origin == nullptr) return true;
  for (const std::string& allowed : settings_.web_origins) {
    if (protocol::equal_case_insensitive(*origin, allowed)) return true;
  }
  const std::string* host = request.header("host");
  if (host == nullptr) return false;
  for (const std::string_view scheme : {"http://", "https://"}) {
    const std::string_view given = *origin;
    if (given.size() > scheme.size() && protocol::equal_case_insensitive(given.substr(0, scheme.size()), scheme) &&
        protocol::equal_case_insensitive(given.substr(scheme.size()), *host)) {
      return true;
    }
  }
  return false;
}

void WebCodec::upgrade(const HttpRequest& request, CodecSink& sink) {
  if (request.method != "GET") {
    answer_error(405, "a WebSocket is opened with GET", "Allow: GET\r\n", true, sink);
    return;
  }
  if (!request.has_token("upgrade", "websocket") || !request.has_token("connection", "upgrade") ||
      request.minor_version != 1) {
    answer_error(426, "this address is a WebSocket (RFC 6455)",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\n", true, sink);
    return;
  }
  const std::string* version = request.header("sec-websocket-version");
  if (version == nullptr || *version != "13") {
    // A 426 names the protocol to upgrade to (RFC 9110 §15.5.22).
    answer_error(426, "WebSocket version 13 is spoken here",
                 "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", true, sink);
    return;
  }
  const std::string* key = request.header("sec-websocket-key");
  if (key == nullptr || !protocol::is_websocket_key(*key)) {
    answer_error(400, "Sec-WebSocket-Key is missing or malformed", {}, true, sink);
    return;
  }
  if (!origin_allowed(request)) {
    answer_error(403, "pages from that origin may not open this chat's WebSocket", {}, true, sink);
    return;
  }
  const std::string_view chosen = pick_protocol(request, settings_.web_irc);
  if (chosen.empty()) {
    answer_error(400, settings_.web_irc ? "the subprotocols spoken here are uvchat and text.ircv3.net"
                                        : "the subprotocol spoken here is uvchat",
                 {}, true, sink);
    return;
  }
  std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  response.append("Sec-WebSocket-Accept: ").append(protocol::websocket_accept(*key)).append("\r\n");
  if (request.header("sec-websocket-protocol") != nullptr) {
    response.append("Sec-WebSocket-Protocol: ").append(chosen).append("\r\n");
  }
  response.append("\r\n");
  sink.reply(std::move(response));
  protocol_ = chosen;
  if (chosen == kIrcProtocol) {
    own_inner_ = std::make_unique<IrcCodec>(settings_);
    inner_ = own_inner_.get();
  } else {
    inner_ = &native_;
  }
  websocket_ = std::make_unique<protocol::WebSocketReader>(settings_.max_line);
  sink.upgrade();
}

void WebCodec::answer(int status, std::string_view headers, std::string_view body, bool head_only, bool close,
                      CodecSink& sink) {
  std::string response = "HTTP/1.1 ";
  response.append(std::to_string(status)).append(" ").append(protocol::http_reason(status)).append("\r\n");
  response.append("Server: ").append(settings_.version).append("\r\n");
  response.append(headers);
  if (status != 304) response.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  response.append(kCommonHeaders);
  response.append(close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
  if (!head_only) response.append(body);
  sink.reply(std::move(response));
  if (close) {
    closing_ = true;
    protocol::Command exit;
    exit.kind = protocol::CommandKind::kExit;
    // The hub takes only these few from a connection that has not
    // registered, and it reads what a line attempted to tell them.
    exit.attempted = protocol::CommandKind::kExit;
    sink.command(exit);
  }
}

void WebCodec::answer_error(int status, std::string_view why, std::string_view headers, bool close,
                            CodecSink& sink) {
  std::string body = std::to_string(status);
  body.append(" ").append(protocol::http_reason(status)).append(": ").append(why).append("\n");
  std::string all(headers);
  all.append("Content-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n");
  // The request being answered is still the reader's. A HEAD gets the
  // headers alone, errors included: a body after them would be read as
  // the next response on a connection kept alive.
  const bool head = reader_.request().method == "HEAD";
  answer(status, all, body, head, close, sink);
}

chat::Payload WebCodec::render(const chat::EventRef& event) {
  // The codec's own replies are HTTP, and go out as they are; once the
  // WebSocket is open, replies are the inner door's lines (an IRC PONG), and
  // are framed with the rest. The 101 is rendered after the upgrade (the
  // hub renders a turn's events once the turn is done): it is told by its
  // first bytes, which no line of another door starts with.
  if (event->kind == EventKind::kReply && (!inner_ || event->text().starts_with(kHttpVersion))) {
    return event->text_payload();
  }
  // Before the WebSocket the hub has nothing to say to a browser's HTTP
  // connection (its timeout, its close, a shutdown are the close itself).
  if (!inner_) return nullptr;
  chat::Payload lines = inner_->render(event);
  if (!lines) return nullptr;
  const auto frame = [&](std::string& frames) {
    protocol::append_lines_as_frames(*lines, frames);
    if (event->kind == EventKind::kBye) protocol::append_close_frame(protocol::CloseCode::kNormal, "bye", frames);
    if (event->kind == EventKind::kShutdown) {
      protocol::append_close_frame(protocol::CloseCode::kGoingAway, "the server is stopping", frames);
    }
  };
  // Lines the inner codec shares (its style's cache) are framed once and
  // shared in turn; lines it made for this session alone, framed for it.
  for (std::size_t style = 0; style < kWebStyles; ++style) {
    if (event->cached(style) == lines.get()) return chat::render_once(event, style + kWebStyles, frame);
  }
  std::string frames;
  frame(frames);
  return chat::make_payload(std::move(frames));
}

}  // namespace uvchat::door
