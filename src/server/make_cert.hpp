// uvchatd --make-cert DIR: a self-signed certificate for a newcomer.
#pragma once

#include <string>

namespace uvchat::server {

// Writes DIR/cert.pem (0644) and DIR/key.pem (0600) for this host's names,
// refusing to overwrite either, and prints what was made and how to use it.
// The exit status: 0 made, 1 not.
int make_certificate(const std::string& directory);

}  // namespace uvchat::server
