// SPDX-License-Identifier: MIT
// File: dialect/sqlite/errors.hpp
//
// SQLite result codes → alchemy exceptions, following pysqlite's classes so that SQLAlchemy
// users see the same names: constraint failures are IntegrityError, a locked or read-only
// database and "no such table" are OperationalError, a file that is not a database is a plain
// DatabaseError.
#ifndef ALCHEMY_DIALECT_SQLITE_ERRORS_HPP_
#define ALCHEMY_DIALECT_SQLITE_ERRORS_HPP_

#include <sqlite3.h>

#include <string>

#include "alchemy/error.hpp"

namespace alchemy::dialect::sqlite {

/// Throws the exception for extended result code `code`, with `message` and `statement`.
[[noreturn]] inline void throw_error(int code, std::string message, std::string statement) {
  DatabaseErrorInfo info{std::move(message), std::move(statement), {}, code, "sqlite", false,
                         Constraint::unknown};
  switch (code) {
    case SQLITE_CONSTRAINT_UNIQUE: info.constraint = Constraint::unique; throw IntegrityError(info);
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      info.constraint = Constraint::primary_key;
      throw IntegrityError(info);
    case SQLITE_CONSTRAINT_NOTNULL: info.constraint = Constraint::not_null; throw IntegrityError(info);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      info.constraint = Constraint::foreign_key;
      throw IntegrityError(info);
    case SQLITE_CONSTRAINT_CHECK: info.constraint = Constraint::check; throw IntegrityError(info);
    default: break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT: throw IntegrityError(info);
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE: throw DataError(info);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: throw DatabaseError(info);
    default: throw OperationalError(info);  // BUSY, LOCKED, READONLY, FULL, IOERR, CANTOPEN, ERROR
  }
}

}  // namespace alchemy::dialect::sqlite

#endif  // ALCHEMY_DIALECT_SQLITE_ERRORS_HPP_
