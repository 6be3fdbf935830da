// A soak client with a name the ledger knows: a well-behaved user, a slow
// reader or a large-queue user.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "soak_client.hpp"
#include "soak_inbox.hpp"

namespace uvchat::bench {

// Every session registers under the identity's name, and every line read
// goes through its inbox, which hands DMs to the ledger. Besides its part in
// the soak, an identity can drain its queue: one session that registers,
// reads what the server replays, and leaves.
class IdentityClient : public SoakClient {
 public:
  IdentityClient(SoakContext& context, Role role, std::uint32_t slot, std::uint32_t identity);

  // One session: register, read the replayed queue, leave. `replayed_as`:
  // kStale for queues an earlier run left.
  void drain_queue(Reading replayed_as);
  // Sessions of the subclass's kind until stopped, the first after `delay_ms`.
  void take_part(std::uint64_t delay_ms);

 protected:
  // The hooks of a soak session (not a drain):
  // the connection is up and `server:register` sent;
  virtual void soak_session_began() {}
  // the queue has been read: the user is in;
  virtual void soak_registered() {}
  // any line, before it is looked at;
  virtual void soak_line(std::string_view) {}
  // a server line other than a registration's (errors included);
  virtual void soak_event(std::string_view line, const ServerEvent& event) = 0;
  // the connection closed: the pause before the next session.
  virtual std::uint64_t soak_session_ended(CloseReason reason, std::string_view error) = 0;

  // The hooks of a drain: the connection is up and `server:register` sent;
  // any line, before it is looked at; the connection closed.
  virtual void drain_session_began() {}
  virtual void drain_line(std::string_view) {}
  virtual void drain_session_ended() {}
  // A session that only drains the queue (drain_queue()).
  bool draining() const { return draining_; }
  // take_part() was called: the soak's sessions are about to start.
  virtual void soak_take_part() {}

  const std::uint32_t identity_;

 private:
  void session_began() final;
  void line_arrived(std::string_view line) final;
  std::optional<std::uint64_t> session_ended(CloseReason reason, std::string_view error) final;
  void take_event(std::string_view line, const ServerEvent& event);
  void note_queue_read();

  Inbox inbox_;
  bool draining_ = false;
  Reading replayed_as_ = Reading::kReplayed;
  bool registered_ = false;
};

}  // namespace uvchat::bench
