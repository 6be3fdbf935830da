// The handshake scenario: how many new connections a second the server
// takes on, each connected, (with --tls) through its TLS handshake, and
// registered; with --resume, each resuming the TLS session of a first
// connection instead of a full handshake.
#pragma once

#include <cstdint>
#include <cxxopts.hpp>

#include "scenario.hpp"

namespace uvchat::bench {

struct HandshakeConfig {
  std::uint32_t connections = 2000;
  std::uint32_t in_flight = 16;  // connecting, shaking hands or registering at once
  bool resume = false;
};

void add_handshake_options(cxxopts::Options& parser);
ScenarioRun configure_handshake(const cxxopts::ParseResult& options);

// With --resume, phase 1 makes one connection (bench-hs-ticket), registers
// and keeps the session of the ticket the server sent. Phase 2, the timed
// one, has --connections connections (bench-hs-N), --in-flight at a time,
// each connect, shake hands (offering that session), register, and close
// once `server:queued-messages` arrives: from the first connect to the last
// registration. A connection that was not resumed with --resume is an error.
Report run_handshake(Driver& driver, const HandshakeConfig& config);

}  // namespace uvchat::bench
