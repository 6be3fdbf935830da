// The web door (docs/WEB.md): HTTP/1.1 for the page and its files, and a
// WebSocket at /ws that carries another door's lines, one per message.
//
// A connection whose first line is an HTTP request line comes here. Until
// it asks for the WebSocket it is plain HTTP: the page, its files (from
// memory, web/assets.hpp), /healthz, and errors, answered by the codec
// itself; the hub sees nothing of it but the close. Once upgraded, every
// message is a line of the door its subprotocol names: `uvchat` (the
// native protocol, the page's) or `text.ircv3.net` (IRC, for web IRC
// clients), parsed and rendered by that door's codec, and framed here.
//
// Pure, like every codec. The bytes of the frames a client sends are read
// by the connection (protocol::WebSocketReader) once the codec says the
// door upgraded (CodecSink::upgrade); what the codec renders it has
// already framed.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "uvchat/door/codec.hpp"
#include "uvchat/protocol/http.hpp"
#include "uvchat/protocol/websocket.hpp"

namespace uvchat::door {

class WebCodec final : public Codec {
 public:
  // Subprotocols (Sec-WebSocket-Protocol) offered at /ws.
  static constexpr std::string_view kNativeProtocol = "uvchat";
  static constexpr std::string_view kIrcProtocol = "text.ircv3.net";
  // Requests on one connection before it is closed, as many servers do.
  static constexpr int kMaxRequests = 100;

  // `settings` is the server's; `native` is its native codec (one for all
  // native sessions, which shares its rendering with them). Both outlive
  // the codec.
  WebCodec(const Settings& settings, Codec& native);
  ~WebCodec() override;

  void on_frame(const protocol::Frame& frame, CodecSink& sink) override;
  chat::Payload render(const chat::EventRef& event) override;
  chat::SessionTraits traits() const override;
  protocol::WebSocketReader* websocket() override { return websocket_.get(); }
  bool metered() const override { return upgraded(); }

  bool upgraded() const { return inner_ != nullptr; }
  // The subprotocol the WebSocket speaks, once upgraded.
  std::string_view protocol() const { return protocol_; }

 private:
  void respond(const protocol::HttpRequest& request, CodecSink& sink);
  void upgrade(const protocol::HttpRequest& request, CodecSink& sink);
  // Sends a whole response: the status line, the common headers, `headers`
  // (each ending in CR LF) and, unless `head_only`, the body.
  void answer(int status, std::string_view headers, std::string_view body, bool head_only, bool close,
              CodecSink& sink);
  void answer_error(int status, std::string_view why, std::string_view headers, bool close, CodecSink& sink);
  bool origin_allowed(const protocol::HttpRequest& request) const;

  const Settings& settings_;
  Codec& native_;
  std::unique_ptr<Codec> own_inner_;  // IRC's codec, per connection
  std::unique_ptr<protocol::WebSocketReader> websocket_;
  Codec* inner_ = nullptr;            // set by the upgrade
  std::string_view protocol_;
  protocol::HttpRequestReader reader_;
  int requests_ = 0;
  bool closing_ = false;  // a response said Connection: close
};

}  // namespace uvchat::door
