// The service manager's notifications (sd_notify(3)), without libsystemd:
// one datagram to the AF_UNIX socket named in $NOTIFY_SOCKET.
#pragma once

#include <string>

namespace uvchat::server {

// Sends `state` ("READY=1\nSTATUS=...") when $NOTIFY_SOCKET is set;
// nothing otherwise. A notification that cannot be sent is logged once and
// otherwise ignored: the server serves with or without a manager.
void notify_service_manager(const std::string& state);

// "RELOADING=1\nMONOTONIC_USEC=...", as systemd wants at the start of a reload.
std::string reloading_state();

}  // namespace uvchat::server
