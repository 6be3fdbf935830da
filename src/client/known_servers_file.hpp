// The known_servers file on disk (the format: uvchat/client/known_servers.hpp).
// Its directory is made 0700 and the file 0600 when they are missing: what
// a person trusts is theirs alone, as ssh keeps ~/.ssh.
#pragma once

#include <string>
#include <vector>

#include "uvchat/client/known_servers.hpp"

namespace uvchat::client {

// The entries of the file at `path`; none when it does not exist or cannot
// be read (then a known server is asked about again, and storing it says
// why it failed).
std::vector<KnownServer> read_known_servers(const std::string& path);

// Appends `line` (known_server_line()) to the file, making it and its
// directories if need be. An error in words, or "" once it is stored.
std::string append_known_server(const std::string& path, const std::string& line);

}  // namespace uvchat::client
