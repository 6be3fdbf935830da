// What the store's files share of SQLite (internal to src/store): errors
// as StoreError, prepared statements and their runs.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "uvchat/store/store.hpp"

namespace uvchat::store::sqlite {

// "insert a message: database or disk is full"; the bare SQLite message when
// the operation goes without saying.
[[noreturn]] inline void fail(sqlite3* db, std::string_view operation) {
  std::string message(operation);
  if (!message.empty()) message += ": ";
  message += sqlite3_errmsg(db);
  throw StoreError(message);
}

inline void check(sqlite3* db, int result, std::string_view operation) {
  if (result != SQLITE_OK) fail(db, operation);
}

// Runs SQL that carries no data (schema, pragmas with our own constants).
inline void execute(sqlite3* db, const std::string& sql, std::string_view operation) {
  check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), operation);
}

// A prepared statement, finalized with its owner.
class Statement {
 public:
  // A statement kept for the life of the store.
  Statement(sqlite3* db, const char* sql)
      : Statement(db, sql, SQLITE_PREPARE_PERSISTENT, std::string("prepare ") + sql) {}
  // `flags`: 0 for a statement run once; `operation`: what an error is about.
  Statement(sqlite3* db, const char* sql, unsigned flags, const std::string& operation) {
    check(db, sqlite3_prepare_v3(db, sql, -1, flags, &statement_, nullptr), operation);
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return statement_; }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

// One run of a statement: binds, steps, reads columns. It resets the
// statement and clears its bindings on the way out, whether the run finished
// or threw, so that a cached statement never holds a read transaction open.
class Run {
 public:
  Run(sqlite3* db, const Statement& statement, std::string_view operation)
      : db_(db), statement_(statement.get()), operation_(operation) {}
  ~Run() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  Run& bind(int index, std::int64_t value) {
    check(db_, sqlite3_bind_int64(statement_, index, value), operation_);
    return *this;
  }
  Run& bind(int index, std::string_view text) {
    // SQLITE_TRANSIENT: SQLite copies the text, so the caller's string may go.
    check(db_,
          sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT),
          operation_);
    return *this;
  }
  Run& bind_null(int index) {
    check(db_, sqlite3_bind_null(statement_, index), operation_);
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  bool next_row() {
    const int result = sqlite3_step(statement_);
    if (result == SQLITE_ROW) return true;
    if (result == SQLITE_DONE) return false;
    fail(db_, operation_);
  }
  // Runs a statement that returns no rows.
  void finish() {
    if (next_row()) throw StoreError(std::string(operation_) + ": unexpected row");
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(statement_, column); }
  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }
  std::string text(int column) const { return std::string(text_view(column)); }
  // Valid until the next step.
  std::string_view text_view(int column) const {
    const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (bytes == nullptr) return {};
    return {bytes, static_cast<std::size_t>(sqlite3_column_bytes(statement_, column))};
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
  std::string_view operation_;
};

}  // namespace uvchat::store::sqlite
