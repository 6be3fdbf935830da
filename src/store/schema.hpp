// Opening a database (src/store/schema.cpp), internal to src/store.
#pragma once

#include <sqlite3.h>

#include <string>

namespace uvchat::store {

// Opens the database at `path` (":memory:" for a throwaway one), creating
// and initialising it when the file does not exist or is empty, upgrading
// an older uvchat schema, and setting the pragmas; never writes to a file
// that is not a uvchat database. The caller owns the connection. Throws
// StoreError.
sqlite3* open_database(const std::string& path);

}  // namespace uvchat::store
