// SPDX-License-Identifier: MIT
// File: error.hpp
//
// The whole exception tree of alchemy, named after SQLAlchemy's `exc.py` so that
// Flask-SQLAlchemy users recognise it:
//
//   Error
//   ├─ ArgumentError ── UrlError, ValidationError
//   ├─ CompileError
//   ├─ InvalidRequestError ── NoResultFound, MultipleResultsFound, PendingRollbackError,
//   │                         DetachedInstanceError, ResourceClosedError
//   ├─ StaleDataError
//   ├─ PoolTimeoutError
//   ├─ DatabaseError ── OperationalError ── TransactionRollbackError
//   │                   IntegrityError, DataError, ProgrammingError, InternalError
//   └─ NotFound   (get_or_404, first_or_404, one_or_404, paginate: an HTTP 404, not a database fault)
//
// Messages never hold parameter values or passwords.
#ifndef ALCHEMY_ERROR_HPP_
#define ALCHEMY_ERROR_HPP_

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "alchemy/config.hpp"

namespace alchemy {

/// Base of every exception alchemy throws.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A bad argument: unknown column in filter_by, a value of the wrong type, a bad option.
class ArgumentError : public Error {
 public:
  using Error::Error;
};

/// A database URL that cannot be parsed or names no known driver. The message never holds the
/// password.
class UrlError : public ArgumentError {
 public:
  using ArgumentError::ArgumentError;
};

/// An expression or statement that cannot be rendered for a dialect.
class CompileError : public Error {
 public:
  using Error::Error;
};

/// An operation that is not valid in the current state (SQLAlchemy's InvalidRequestError).
class InvalidRequestError : public Error {
 public:
  using Error::Error;
};

/// `Query::one()` found no row.
class NoResultFound : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

/// `Query::one()` or `one_or_none()` found more than one row.
class MultipleResultsFound : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

/// The session's transaction was rolled back by a failed flush; call `rollback()` first.
class PendingRollbackError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

/// An object that belongs to no session was asked for something that needs one.
class DetachedInstanceError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

/// A closed or disposed resource (engine, connection) was used.
class ResourceClosedError : public InvalidRequestError {
 public:
  using InvalidRequestError::InvalidRequestError;
};

/// A flush expected to change N rows and matched a different number (a concurrent delete or a
/// stale version counter).
class StaleDataError : public Error {
 public:
  using Error::Error;
};

/// The connection pool had no connection to give within `pool_timeout`.
class PoolTimeoutError : public Error {
 public:
  using Error::Error;
};

/// A column validator (alchemy::validates) rejected a value, at add() or at flush, before any
/// SQL was sent. The message names the model and column; the rejected value is in value(), not
/// in the message (messages never hold values: it may be a password).
class ValidationError : public ArgumentError {
 public:
  ValidationError(std::string model, std::string column, std::string value, const std::string& reason)
      : ArgumentError(model + "." + column + ": " + reason),
        model_(std::move(model)), column_(std::move(column)), value_(std::move(value)) {}
  const std::string& model() const noexcept { return model_; }
  const std::string& column() const noexcept { return column_; }
  /// The rejected value as text (integers and text as they are, NULL as "NULL").
  const std::string& value() const noexcept { return value_; }

 private:
  std::string model_, column_, value_;
};

/// Which constraint an IntegrityError broke, when the driver says so.
enum class Constraint { unknown, unique, not_null, foreign_key, check, primary_key };

/// Details a driver reports with a database error.
struct DatabaseErrorInfo {
  std::string message;         ///< the server's message (never parameter values)
  std::string statement;       ///< the SQL text, with placeholders
  std::string sqlstate;        ///< five-character SQLSTATE when the driver has one
  long long native_code = 0;   ///< SQLite extended code, MySQL errno, ...
  std::string driver;          ///< "sqlite", "postgresql", "mysql"
  bool connection_invalidated = false;  ///< the connection is gone and was discarded
  Constraint constraint = Constraint::unknown;
};

/// Anything the database reported. Carries the statement, the native code and whether a retry
/// may help.
class DatabaseError : public Error {
 public:
  explicit DatabaseError(DatabaseErrorInfo info);

  const std::string& statement() const noexcept { return info_.statement; }
  const std::string& sqlstate() const noexcept { return info_.sqlstate; }
  long long native_code() const noexcept { return info_.native_code; }
  const std::string& driver() const noexcept { return info_.driver; }
  const std::string& server_message() const noexcept { return info_.message; }
  bool connection_invalidated() const noexcept { return info_.connection_invalidated; }
  const DatabaseErrorInfo& info() const noexcept { return info_; }
  /// True when the same work may succeed if tried again (deadlock, serialization failure).
  virtual bool retryable() const noexcept { return false; }

 private:
  static std::string render(const DatabaseErrorInfo& i);
  DatabaseErrorInfo info_;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE DatabaseError::DatabaseError(DatabaseErrorInfo info) : Error(render(info)), info_(std::move(info)) {}

ALCHEMY_INLINE std::string DatabaseError::render(const DatabaseErrorInfo& i) {
  std::string s = "(" + i.driver + ") " + i.message;
  if (!i.sqlstate.empty()) s += " [SQLSTATE " + i.sqlstate + "]";
  if (i.native_code != 0) s += " [code " + std::to_string(i.native_code) + "]";
  if (!i.statement.empty()) s += " [SQL: " + i.statement + "]";
  return s;
}
#endif  // ALCHEMY_IMPL

/// Connection refused or lost, disk full, database locked, read-only file.
class OperationalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// A constraint was violated: UNIQUE, NOT NULL, FOREIGN KEY, CHECK.
class IntegrityError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
  Constraint constraint() const noexcept { return info().constraint; }
};

/// A value the database cannot store: out of range, bad encoding, NUL in text.
class DataError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Bad SQL: syntax error, unknown table or column, aborted transaction.
class ProgrammingError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// The database is in a state that refuses the statement, e.g. PostgreSQL's aborted transaction
/// (SQLSTATE 25P02) until ROLLBACK.
class InternalError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

/// Deadlock or serialization failure: the transaction was rolled back and may be retried.
class TransactionRollbackError : public OperationalError {
 public:
  using OperationalError::OperationalError;
  bool retryable() const noexcept override { return true; }
};

/// What Flask-SQLAlchemy answers with `abort(404)`: get_or_404, first_or_404 and one_or_404 found
/// nothing, or paginate() was asked for a page that does not exist. Not a DatabaseError: map it
/// to HTTP 404 in the web framework (code() is 404, description() the text for the response).
class NotFound : public Error {
 public:
  explicit NotFound(std::string description = {})
      : Error(description.empty() ? std::string("404 Not Found") : "404 Not Found: " + description),
        description_(std::move(description)) {}
  /// The HTTP status: always 404.
  static constexpr int code() noexcept { return 404; }
  /// The description given to the *_or_404 call; empty when none was given.
  const std::string& description() const noexcept { return description_; }

 private:
  std::string description_;
};

}  // namespace alchemy

#endif  // ALCHEMY_ERROR_HPP_
