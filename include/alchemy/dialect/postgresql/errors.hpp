// SPDX-License-Identifier: MIT
// File: dialect/postgresql/errors.hpp
//
// Maps a PostgreSQL failure to the alchemy exception tree, by SQLSTATE class as psycopg2 does
// (so that SQLAlchemy users meet the same classes), plus SQLAlchemy's disconnect detection.
//
// It does not include <libpq-fe.h>: the driver copies the fields of a failed PGresult / PGconn
// into an ErrorReport, so this mapping is tested without a server or the client library.
//
//   23xxx → IntegrityError (with Constraint)   22xxx → DataError   42xxx → ProgrammingError
//   40001, 40P01 → TransactionRollbackError    25xxx → InternalError
//   08xxx, 5xxxx, no SQLSTATE (libpq's own) → OperationalError
//
// Messages are the server's primary message only. DETAIL lines are dropped because they quote
// row values ("Key (handle)=(jdoe) already exists."), and the quoted input in class 22 messages
// ("invalid input syntax for type integer: \"…\"") is masked.
#ifndef ALCHEMY_DIALECT_POSTGRESQL_ERRORS_HPP_
#define ALCHEMY_DIALECT_POSTGRESQL_ERRORS_HPP_

#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "alchemy/error.hpp"

namespace alchemy::dialect::postgresql {

/// The facts of one failure, read by the driver from a PGresult (or the PGconn when libpq
/// returned no result). Views only: the driver keeps the PGresult alive while this is used.
struct ErrorReport {
  std::string_view sqlstate;   ///< PG_DIAG_SQLSTATE; empty for errors libpq made itself
  std::string_view primary;    ///< PG_DIAG_MESSAGE_PRIMARY; empty for libpq's own errors
  std::string_view full;       ///< PQresultErrorMessage or PQerrorMessage: used without primary
  std::string_view severity;   ///< PG_DIAG_SEVERITY_NONLOCALIZED: "ERROR", "FATAL", ...
  std::string_view statement;  ///< the SQL text, with placeholders
  bool connection_bad = false; ///< PQstatus(conn) == CONNECTION_BAD after the failure
};

/// Which alchemy exception a SQLSTATE maps to.
enum class ErrorKind {
  database, operational, transaction_rollback, integrity, data, programming, internal
};

/// The exception class for a SQLSTATE, following psycopg2's table (psycopg/pqpath.c), which is
/// what SQLAlchemy users see. An empty SQLSTATE is an error libpq raised itself: a lost
/// connection, a failed send.
constexpr ErrorKind classify(std::string_view sqlstate) noexcept {
  if (sqlstate.size() != 5) return ErrorKind::operational;
  const char c0 = sqlstate[0], c1 = sqlstate[1];
  switch (c0) {
    case '0':
      if (c1 == '8') return ErrorKind::operational;  // connection exception
      break;  // 0A feature not supported: alchemy has no NotSupportedError
    case '2':
      switch (c1) {
        case '0': case '1': return ErrorKind::programming;
        case '2': return ErrorKind::data;
        case '3': return ErrorKind::integrity;
        case '4': case '5': case 'B': case 'D': case 'F': return ErrorKind::internal;
        case '6': case '7': case '8': return ErrorKind::operational;
        default: break;
      }
      break;
    case '3':
      switch (c1) {
        case '4': return ErrorKind::operational;
        case '8': case '9': case 'B': return ErrorKind::internal;
        case 'D': case 'F': return ErrorKind::programming;
        default: break;
      }
      break;
    case '4':
      if (c1 == '0') {
        // 40002 is a constraint violated at COMMIT, 40003 "completion unknown": neither is
        // safe to retry blindly, unlike serialization failures and deadlocks.
        if (sqlstate == "40002") return ErrorKind::integrity;
        if (sqlstate == "40003") return ErrorKind::operational;
        return ErrorKind::transaction_rollback;
      }
      if (c1 == '2' || c1 == '4') return ErrorKind::programming;
      break;
    case '5': return ErrorKind::operational;  // resources, limits, operator intervention
    case 'H': return ErrorKind::operational;  // foreign data wrapper
    case 'F': case 'P': case 'X': return ErrorKind::internal;
    default: break;
  }
  return ErrorKind::database;
}

/// The constraint an integrity violation names.
constexpr Constraint constraint_of(std::string_view sqlstate) noexcept {
  if (sqlstate == "23505") return Constraint::unique;
  if (sqlstate == "23502") return Constraint::not_null;
  if (sqlstate == "23503" || sqlstate == "23001") return Constraint::foreign_key;  // 23001: RESTRICT
  if (sqlstate == "23514") return Constraint::check;
  return Constraint::unknown;
}

/// Whether the failure means the connection is gone, so the pool must discard it. libpq's
/// CONNECTION_BAD is the primary signal; the SQLSTATEs and psycopg2's message fragments (as
/// listed in SQLAlchemy's PGDialect_psycopg2.is_disconnect) catch the rest.
constexpr bool is_disconnect(const ErrorReport& r) noexcept {
  if (r.connection_bad) return true;
  if (r.severity == "FATAL" || r.severity == "PANIC") return true;  // the backend is exiting
  if (r.sqlstate.starts_with("08") || r.sqlstate == "57P01" || r.sqlstate == "57P02") return true;
  constexpr std::array<std::string_view, 11> fragments{
      "terminating connection",
      "closed the connection",
      "connection not open",
      "could not receive data from server",
      "could not send data to server",
      "connection already closed",
      "cursor already closed",
      "losed the connection unexpectedly",
      "connection has been closed unexpectedly",
      "SSL SYSCALL error:",
      "SSL error: decryption failed or bad record mac",
  };
  // Only the message's first line: later lines may be quoted user data.
  const std::string_view msg = r.primary.empty() ? r.full : r.primary;
  const std::string_view line = msg.substr(0, msg.find('\n'));
  for (const auto f : fragments)
    if (line.find(f) != std::string_view::npos) return true;
  return false;
}

namespace detail {

inline std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

/// libpq's own messages span lines ("server closed the connection unexpectedly\n\tThis
/// probably means..."); server messages carry "ERROR:  " and DETAIL/HINT lines. Keeps the
/// first paragraph on one line, without the severity prefix.
inline std::string one_line(std::string_view full) {
  full = trim(full);
  for (const std::string_view sev : {"ERROR:  ", "FATAL:  ", "PANIC:  "})
    if (full.starts_with(sev)) {
      full.remove_prefix(sev.size());
      break;
    }
  for (const std::string_view cut : {"\nDETAIL:", "\nHINT:", "\nCONTEXT:", "\nLINE "})
    full = full.substr(0, full.find(cut));
  std::string out;
  out.reserve(full.size());
  bool space = false;
  for (const char c : full) {
    if (c == '\n' || c == '\t' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty() && out.back() != ' ') out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace detail

/// The message with parameter values masked. Data exceptions (class 22) quote the rejected
/// input: `value "…" is out of range`, `invalid input syntax for type date: "…"`. The whole
/// span from the first to the last double quote is masked, since the value may itself hold
/// quotes. Encoding errors instead print the offending bytes ("…: 0x00"), which are masked.
inline std::string redact(std::string_view sqlstate, std::string message) {
  if (!sqlstate.starts_with("22")) return message;
  if (message.find("encoding") != std::string::npos) {
    for (auto pos = message.find("0x"); pos != std::string::npos; pos = message.find("0x", pos + 4)) {
      auto end = pos + 2;
      while (end < message.size() && message[end] != ' ' && message[end] != ',') ++end;
      message.replace(pos, end - pos, "0x??");
    }
    return message;
  }
  const auto first = message.find('"');
  const auto last = message.rfind('"');
  if (first != std::string::npos && last > first) message.replace(first + 1, last - first - 1, "***");
  return message;
}

/// The DatabaseErrorInfo for a report: kind-independent fields.
inline DatabaseErrorInfo make_info(const ErrorReport& r) {
  DatabaseErrorInfo info;
  info.sqlstate = std::string(r.sqlstate);
  info.message = redact(r.sqlstate, detail::one_line(r.primary.empty() ? r.full : r.primary));
  if (info.message.empty()) info.message = "unknown PostgreSQL error";
  info.statement = std::string(r.statement);
  info.driver = "postgresql";
  info.connection_invalidated = is_disconnect(r);
  if (classify(r.sqlstate) == ErrorKind::integrity) info.constraint = constraint_of(r.sqlstate);
  return info;
}

/// Throws the exception of `kind` carrying `info`.
[[noreturn]] inline void throw_error(ErrorKind kind, DatabaseErrorInfo info) {
  switch (kind) {
    case ErrorKind::operational: throw OperationalError(std::move(info));
    case ErrorKind::transaction_rollback: throw TransactionRollbackError(std::move(info));
    case ErrorKind::integrity: throw IntegrityError(std::move(info));
    case ErrorKind::data: throw DataError(std::move(info));
    case ErrorKind::programming: throw ProgrammingError(std::move(info));
    case ErrorKind::internal: throw InternalError(std::move(info));
    case ErrorKind::database: break;
  }
  throw DatabaseError(std::move(info));
}

/// The exception class for a report. A lost connection is an OperationalError whatever the
/// SQLSTATE says, as in SQLAlchemy, so that callers test one class for "retry elsewhere".
constexpr ErrorKind kind_of(const ErrorReport& r) noexcept {
  return is_disconnect(r) ? ErrorKind::operational : classify(r.sqlstate);
}

/// Throws the exception a failure maps to.
[[noreturn]] inline void throw_error(const ErrorReport& r) { throw_error(kind_of(r), make_info(r)); }

}  // namespace alchemy::dialect::postgresql

#endif  // ALCHEMY_DIALECT_POSTGRESQL_ERRORS_HPP_
