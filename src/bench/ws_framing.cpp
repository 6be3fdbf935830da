#include "ws_framing.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace uvchat::bench::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
constexpr unsigned char kFin = 0x80;
constexpr unsigned char kMaskBit = 0x80;
constexpr unsigned char kReservedBits = 0x70;
constexpr std::size_t kMaxControlPayload = 125;

std::string base64(const unsigned char* data, std::size_t size) {
  std::string encoded(4 * ((size + 2) / 3) + 1, '\0');
  const int length =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()), data, static_cast<int>(size));
  encoded.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
  return encoded;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Whether the comma-separated `value` holds `token`, case aside.
bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (same_ignoring_case(trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

struct Header {
  bool fin = false;
  unsigned char opcode = 0;
  bool masked = false;
  bool reserved = false;
  std::size_t header_size = 2;  // known once two bytes are there
  std::uint64_t payload_size = 0;
};

enum class Parse { kComplete, kShort };

Parse parse_header(std::string_view data, Header& header) {
  if (data.size() < 2) return Parse::kShort;
  const auto first = static_cast<unsigned char>(data[0]);
  const auto second = static_cast<unsigned char>(data[1]);
  header.fin = (first & kFin) != 0;
  header.reserved = (first & kReservedBits) != 0;
  header.opcode = first & 0x0f;
  header.masked = (second & kMaskBit) != 0;
  const unsigned length = second & 0x7f;
  const std::size_t extended = length == 126 ? 2 : length == 127 ? 8 : 0;
  header.header_size = 2 + extended + (header.masked ? 4 : 0);
  if (data.size() < header.header_size) return Parse::kShort;
  if (extended == 0) {
    header.payload_size = length;
  } else {
    header.payload_size = 0;
    for (std::size_t i = 0; i < extended; ++i) {
      header.payload_size = (header.payload_size << 8) | static_cast<unsigned char>(data[2 + i]);
    }
  }
  return Parse::kComplete;
}

bool is_control(unsigned char opcode) { return (opcode & 0x08) != 0; }

}  // namespace

std::string new_key() {
  std::array<unsigned char, 16> nonce{};
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) {
    // Only uniqueness matters to the server, which checks the form.
    for (std::size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<unsigned char>(i * 37 + 11);
  }
  return base64(nonce.data(), nonce.size());
}

std::string accept_for(std::string_view key) {
  std::string joined(key);
  joined.append(kGuid);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(joined.data(), joined.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) != 1) {
    return {};
  }
  return base64(digest.data(), digest_size);
}

std::string upgrade_request(std::string_view host, std::string_view key) {
  std::string request = "GET /ws HTTP/1.1\r\nHost: ";
  request.append(host);
  request.append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
  request.append(key);
  request.append("\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ");
  request.append(kNativeProtocol);
  request.append("\r\n\r\n");
  return request;
}

std::size_t response_head_size(std::string_view received) {
  const std::size_t end = received.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

std::string check_upgrade_response(std::string_view head, std::string_view key) {
  const std::size_t status_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, status_end);
  if (!status_line.starts_with("HTTP/1.1 101 ")) {
    return "the server answered the upgrade with '" + std::string(status_line) + "'";
  }
  bool upgrade = false;
  bool connection = false;
  std::string_view accept;
  std::string_view protocol;
  std::string_view rest =
      status_end == std::string_view::npos ? std::string_view{} : head.substr(status_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (same_ignoring_case(name, "upgrade")) upgrade = has_token(value, "websocket");
    if (same_ignoring_case(name, "connection")) connection = has_token(value, "upgrade");
    if (same_ignoring_case(name, "sec-websocket-accept")) accept = value;
    if (same_ignoring_case(name, "sec-websocket-protocol")) protocol = value;
  }
  if (!upgrade || !connection) return "the 101 lacks 'Upgrade: websocket' or 'Connection: Upgrade'";
  if (accept != accept_for(key)) {
    return "the 101's Sec-WebSocket-Accept is '" + std::string(accept) + "', not '" + accept_for(key) + "'";
  }
  if (protocol != kNativeProtocol) {
    return "the 101 chose the subprotocol '" + std::string(protocol) + "', not '" +
           std::string(kNativeProtocol) + "'";
  }
  return {};
}

void apply_mask(char* data, std::size_t size, std::uint32_t key) {
  const std::array<unsigned char, 8> bytes = {
      static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
      static_cast<unsigned char>(key >> 8),  static_cast<unsigned char>(key),
      static_cast<unsigned char>(key >> 24), static_cast<unsigned char>(key >> 16),
      static_cast<unsigned char>(key >> 8),  static_cast<unsigned char>(key)};
  std::uint64_t word_mask = 0;
  std::memcpy(&word_mask, bytes.data(), sizeof word_mask);
  // Eight bytes at a time: a multiple of four, so the mask stays in step.
  std::size_t at = 0;
  for (; at + 8 <= size; at += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + at, sizeof word);
    word ^= word_mask;
    std::memcpy(data + at, &word, sizeof word);
  }
  for (; at < size; ++at) data[at] = static_cast<char>(data[at] ^ bytes[at & 3]);
}

void append_masked_frame(Opcode opcode, std::string_view payload, Masker& masker, std::string& out) {
  const std::size_t size = payload.size();
  out.push_back(static_cast<char>(kFin | static_cast<unsigned char>(opcode)));
  if (size < 126) {
    out.push_back(static_cast<char>(kMaskBit | size));
  } else if (size <= 0xffff) {
    out.push_back(static_cast<char>(kMaskBit | 126));
    out.push_back(static_cast<char>(size >> 8));
    out.push_back(static_cast<char>(size & 0xff));
  } else {
    out.push_back(static_cast<char>(kMaskBit | 127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(size) >> shift) & 0xff));
    }
  }
  const std::uint32_t key = masker.next();
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((key >> shift) & 0xff));
  const std::size_t at = out.size();
  out.append(payload);
  apply_mask(out.data() + at, size, key);
}

std::size_t append_lines_as_masked_frames(std::string_view lines, Masker& masker, std::string& out) {
  std::size_t framed = 0;
  for (;;) {
    const std::size_t end = lines.find('\n', framed);
    if (end == std::string_view::npos) return framed;
    std::string_view line = lines.substr(framed, end - framed);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    append_masked_frame(Opcode::kText, line, masker, out);
    framed = end + 1;
  }
}

CloseReason parse_close(std::string_view payload) {
  if (payload.size() < 2) return {};
  const auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                               static_cast<unsigned char>(payload[1]));
  return {code, payload.substr(2)};
}

FrameReader::Status FrameReader::fail(std::string why) {
  error_ = std::move(why);
  return Status::kError;
}

FrameReader::Status FrameReader::next(std::string_view& bytes, Message& message) {
  if (!error_.empty()) return Status::kError;
  if (pending_used_) {
    pending_.clear();
    pending_used_ = false;
  }
  if (fragments_used_) {
    fragments_.clear();
    fragments_used_ = false;
    in_fragments_ = false;
  }
  for (;;) {
    std::string_view frame;
    if (!pending_.empty()) {
      const Status topped = top_up(bytes);
      if (topped != Status::kMessage) return topped;
      frame = pending_;
      pending_used_ = true;
    } else {
      if (bytes.empty()) return Status::kMore;
      Header header;
      const bool whole_header = parse_header(bytes, header) == Parse::kComplete;
      if (whole_header && header.payload_size > kMaxMessage) {
        return fail("a frame of " + std::to_string(header.payload_size) + " bytes");
      }
      const std::uint64_t total = header.header_size + header.payload_size;
      if (!whole_header || bytes.size() < total) {
        pending_.assign(bytes);
        bytes = {};
        return Status::kMore;
      }
      frame = bytes.substr(0, total);
      bytes.remove_prefix(total);
    }
    bool complete = false;
    if (take_frame(frame, message, complete) == Status::kError) return Status::kError;
    if (complete) return Status::kMessage;
    if (pending_used_) {
      pending_.clear();
      pending_used_ = false;
    }
  }
}

// Moves bytes from the front of `bytes` into pending_ until it holds a whole
// frame, and no further: the next frame's bytes stay in `bytes`.
FrameReader::Status FrameReader::top_up(std::string_view& bytes) {
  for (;;) {
    Header header;
    std::size_t want = 2;
    if (parse_header(pending_, header) == Parse::kComplete) {
      if (header.payload_size > kMaxMessage) {
        return fail("a frame of " + std::to_string(header.payload_size) + " bytes");
      }
      want = header.header_size + header.payload_size;
      if (pending_.size() >= want) return Status::kMessage;
    } else if (pending_.size() >= 2) {
      want = header.header_size;
    }
    const std::size_t take = std::min(want - pending_.size(), bytes.size());
    if (take == 0) return Status::kMore;
    pending_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
}

FrameReader::Status FrameReader::take_frame(std::string_view frame, Message& message, bool& complete) {
  Header header;
  parse_header(frame, header);
  if (header.masked) return fail("the server masked a frame");
  if (header.reserved) return fail("a frame with a reserved bit set");
  const std::string_view payload = frame.substr(header.header_size);
  const auto opcode = static_cast<Opcode>(header.opcode);
  if (is_control(header.opcode)) {
    if (opcode != Opcode::kClose && opcode != Opcode::kPing && opcode != Opcode::kPong) {
      return fail("a frame with opcode " + std::to_string(header.opcode));
    }
    if (!header.fin || payload.size() > kMaxControlPayload) return fail("a fragmented or long control frame");
    message = {opcode, payload};
    complete = true;
    return Status::kMessage;
  }
  if (opcode == Opcode::kContinuation) {
    if (!in_fragments_) return fail("a continuation frame with no message to continue");
    if (fragments_.size() + payload.size() > kMaxMessage) return fail("a fragmented message over 1 MiB");
    fragments_.append(payload);
    if (header.fin) {
      message = {fragments_opcode_, fragments_};
      fragments_used_ = true;
      complete = true;
    }
    return Status::kMessage;
  }
  if (opcode != Opcode::kText && opcode != Opcode::kBinary) {
    return fail("a frame with opcode " + std::to_string(header.opcode));
  }
  if (in_fragments_) return fail("a new message inside a fragmented one");
  if (header.fin) {
    message = {opcode, payload};
    complete = true;
  } else {
    in_fragments_ = true;
    fragments_opcode_ = opcode;
    fragments_.assign(payload);
  }
  return Status::kMessage;
}

}  // namespace uvchat::bench::ws
