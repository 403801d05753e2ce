// SPDX-License-Identifier: MIT
// File: dialect/mysql/errors.hpp
//
// MySQL / MariaDB error numbers (mysql_errno, mysql_stmt_errno) and SQLSTATEs mapped to the
// alchemy exception tree, as SQLAlchemy's mysql dialect and mysqlclient class them:
//
//   1062 1586                          IntegrityError (unique)
//   1048 1364                          IntegrityError (not_null)
//   1216 1217 1451 1452                IntegrityError (foreign_key)
//   3819 4025                          IntegrityError (check)       MySQL 8 / MariaDB
//   1205 1213                          TransactionRollbackError     lock wait timeout, deadlock
//   1264 1265 1292 1300 1365 1366 1406 1690  DataError
//   1049 1054 1064 1146                ProgrammingError
//   1927 2006 2013 2014 2045 2055 4031 OperationalError, connection_invalidated
//   1045 2002 2003 2005                OperationalError             cannot connect
//   anything else                      by SQLSTATE class: 23 integrity, 22 data, 42/0A/21
//                                      programming, 40 rollback, 25 internal, 08/28/HY
//                                      operational, otherwise DatabaseError
//
// No client header is needed here, so the mapping is tested without a server. Server messages
// that quote the offending value ("Duplicate entry 'jdoe' for key ...") have it replaced by
// '***': messages never carry parameter values.
#ifndef ALCHEMY_DIALECT_MYSQL_ERRORS_HPP_
#define ALCHEMY_DIALECT_MYSQL_ERRORS_HPP_

#include <string>
#include <string_view>
#include <utility>

#include "alchemy/error.hpp"

namespace alchemy::dialect::mysql {

/// The exception class an error maps to.
enum class ErrorClass {
  database,
  operational,
  integrity,
  data,
  programming,
  internal,
  transaction_rollback
};

/// How one error number / SQLSTATE is classed.
struct ErrorMapping {
  ErrorClass cls = ErrorClass::database;
  Constraint constraint = Constraint::unknown;
  bool disconnect = false;  ///< the connection is gone; it must be discarded
};

/// Error numbers after which the connection is unusable (SQLAlchemy's `is_disconnect` list).
constexpr bool is_disconnect(unsigned code) noexcept {
  switch (code) {
    case 1927:  // ER_CONNECTION_KILLED (MariaDB)
    case 2006:  // CR_SERVER_GONE_ERROR
    case 2013:  // CR_SERVER_LOST
    case 2014:  // CR_COMMANDS_OUT_OF_SYNC: the protocol state is unknown
    case 2045:  // CR_CONN_UNKNOWN_PROTOCOL (MySQL: named pipe / shared memory gone)
    case 2055:  // CR_SERVER_LOST_EXTENDED
    case 4031:  // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8: idle client disconnected)
      return true;
    default: return false;
  }
}

/// Classes an error by its number first and its SQLSTATE second.
constexpr ErrorMapping classify(unsigned code, std::string_view sqlstate) noexcept {
  using C = ErrorClass;
  if (is_disconnect(code)) return {C::operational, Constraint::unknown, true};
  switch (code) {
    case 1062:  // ER_DUP_ENTRY
    case 1586:  // ER_DUP_ENTRY_WITH_KEY_NAME
      return {C::integrity, Constraint::unique, false};
    case 1048:  // ER_BAD_NULL_ERROR
    case 1364:  // ER_NO_DEFAULT_FOR_FIELD
      return {C::integrity, Constraint::not_null, false};
    case 1216:  // ER_NO_REFERENCED_ROW
    case 1217:  // ER_ROW_IS_REFERENCED
    case 1451:  // ER_ROW_IS_REFERENCED_2
    case 1452:  // ER_NO_REFERENCED_ROW_2
      return {C::integrity, Constraint::foreign_key, false};
    case 3819:  // ER_CHECK_CONSTRAINT_VIOLATED (MySQL 8)
    case 4025:  // ER_CONSTRAINT_FAILED (MariaDB)
      return {C::integrity, Constraint::check, false};
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
    case 1213:  // ER_LOCK_DEADLOCK
      return {C::transaction_rollback, Constraint::unknown, false};
    case 1264:  // ER_WARN_DATA_OUT_OF_RANGE
    case 1265:  // WARN_DATA_TRUNCATED (an error under strict mode, SQLSTATE 01000)
    case 1292:  // ER_TRUNCATED_WRONG_VALUE
    case 1300:  // ER_INVALID_CHARACTER_STRING
    case 1365:  // ER_DIVISION_BY_ZERO
    case 1366:  // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
    case 1406:  // ER_DATA_TOO_LONG
    case 1690:  // ER_DATA_OUT_OF_RANGE
      return {C::data, Constraint::unknown, false};
    case 1049:  // ER_BAD_DB_ERROR
    case 1054:  // ER_BAD_FIELD_ERROR
    case 1064:  // ER_PARSE_ERROR
    case 1146:  // ER_NO_SUCH_TABLE
      return {C::programming, Constraint::unknown, false};
    case 1045:  // ER_ACCESS_DENIED_ERROR
    case 2002:  // CR_CONNECTION_ERROR
    case 2003:  // CR_CONN_HOST_ERROR
    case 2005:  // CR_UNKNOWN_HOST
      return {C::operational, Constraint::unknown, false};
    default: break;
  }
  const std::string_view cls = sqlstate.substr(0, sqlstate.size() < 2 ? sqlstate.size() : 2);
  if (cls == "23") return {C::integrity, Constraint::unknown, false};
  if (cls == "22") return {C::data, Constraint::unknown, false};
  if (cls == "42" || cls == "0A" || cls == "21")
    return {C::programming, Constraint::unknown, false};
  if (cls == "40") return {C::transaction_rollback, Constraint::unknown, false};
  if (cls == "25") return {C::internal, Constraint::unknown, false};
  if (cls == "08" || cls == "28" || cls == "HY")
    return {C::operational, Constraint::unknown, false};
  return {C::database, Constraint::unknown, false};
}

namespace detail {

/// Replaces the text between the first `open` and the last `close` after it by "***".
/// False when the markers are not there (another server language, a new message format).
inline bool redact_between(std::string& msg, std::string_view open, std::string_view close) {
  const auto a = msg.find(open);
  if (a == std::string::npos) return false;
  const auto from = a + open.size();
  const auto b = msg.rfind(close);
  if (b == std::string::npos || b < from) return false;
  msg.replace(from, b - from, "***");
  return true;
}

/// An error the client library (or the driver) reports, not the server.
inline DatabaseErrorInfo client_error(std::string message, std::string statement,
                                      std::string sqlstate = "HY000") {
  DatabaseErrorInfo info;
  info.message = std::move(message);
  info.statement = std::move(statement);
  info.sqlstate = std::move(sqlstate);
  info.driver = "mysql";
  return info;
}

}  // namespace detail

/// The server's message with any quoted value replaced by '***'. Messages of errors known to
/// quote a value that cannot be found (a translated server, `lc_messages`) are replaced whole.
inline std::string redact_message(unsigned code, std::string message) {
  switch (code) {
    case 1062:  // Duplicate entry '%s' for key '%s'
    case 1586:
      if (!detail::redact_between(message, "entry '", "' for key"))
        return "Duplicate entry for a unique key";
      break;
    case 1292:  // Incorrect %s value: '%s' [for column ...] / Truncated incorrect %s value: '%s'
    case 1366:
    case 1367:  // Illegal %s '%s' value found during parsing
    case 1300:  // Invalid %s character string: '%s'
      if (!detail::redact_between(message, ": '", "' for column") &&
          !detail::redact_between(message, ": '", "'") &&
          !detail::redact_between(message, " '", "' value found"))
        return "Incorrect value";
      break;
    case 1690:  // BIGINT value is out of range in '%s' (an expression, not a value; kept)
    default: break;
  }
  return message;
}

/// The DatabaseErrorInfo for a MySQL error.
inline DatabaseErrorInfo make_error_info(unsigned code, std::string_view sqlstate,
                                         std::string_view message, std::string statement) {
  const ErrorMapping m = classify(code, sqlstate);
  DatabaseErrorInfo info;
  info.message = redact_message(code, std::string(message));
  info.statement = std::move(statement);
  info.sqlstate = std::string(sqlstate);
  info.native_code = static_cast<long long>(code);
  info.driver = "mysql";
  info.connection_invalidated = m.disconnect;
  info.constraint = m.constraint;
  return info;
}

/// Throws the exception for a MySQL error: the class from classify(), the info from
/// make_error_info().
[[noreturn]] inline void throw_error(unsigned code, std::string_view sqlstate,
                                     std::string_view message, std::string statement) {
  const ErrorMapping m = classify(code, sqlstate);
  DatabaseErrorInfo info = make_error_info(code, sqlstate, message, std::move(statement));
  switch (m.cls) {
    case ErrorClass::operational: throw OperationalError(std::move(info));
    case ErrorClass::integrity: throw IntegrityError(std::move(info));
    case ErrorClass::data: throw DataError(std::move(info));
    case ErrorClass::programming: throw ProgrammingError(std::move(info));
    case ErrorClass::internal: throw InternalError(std::move(info));
    case ErrorClass::transaction_rollback: throw TransactionRollbackError(std::move(info));
    case ErrorClass::database: break;
  }
  throw DatabaseError(std::move(info));
}

}  // namespace alchemy::dialect::mysql

#endif  // ALCHEMY_DIALECT_MYSQL_ERRORS_HPP_
