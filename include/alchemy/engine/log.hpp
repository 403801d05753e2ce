// SPDX-License-Identifier: MIT
// File: engine/log.hpp
//
// Echo logging (SQLALCHEMY_ECHO): each statement, its parameters (unless hide_parameters) and
// the transaction markers, in SQLAlchemy's shape:
//
//   [alchemy.engine] INSERT INTO account (handle, secret_key) VALUES (?, ?)
//   [alchemy.engine] [parameters: ('jdoe', 's3cr3t')]
#ifndef ALCHEMY_ENGINE_LOG_HPP_
#define ALCHEMY_ENGINE_LOG_HPP_

#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "alchemy/config.hpp"
#if ALCHEMY_IMPL  // the messages are formatted where Logger is compiled
#include <fmt/format.h>
#endif
#include "alchemy/engine/options.hpp"
#include "alchemy/engine/record.hpp"
#include "alchemy/sql/detail/datetime.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::engine {

class Logger {
 public:
  Logger(bool enabled, bool hide_parameters, LogSink sink)
      : enabled_(enabled), hide_parameters_(hide_parameters), sink_(std::move(sink)) {}

  bool enabled() const noexcept { return enabled_; }
  void set_enabled(bool on) noexcept { enabled_ = on; }
  bool hide_parameters() const noexcept { return hide_parameters_; }

  /// Where executed statements are recorded (SQLALCHEMY_RECORD_QUERIES); null: nowhere.
  QueryRecorder* recorder() const noexcept { return recorder_.get(); }
  void set_recorder(std::shared_ptr<QueryRecorder> recorder) noexcept { recorder_ = std::move(recorder); }

  void line(std::string_view text) const;

  void statement(std::string_view sql, std::span<const sql::ValueRef> params) const;

  /// A parameter as Python would print it, for familiarity: 'text', 1, None, b'...'.
  static void append(std::string& out, sql::ValueRef v);

 private:
  bool enabled_;
  bool hide_parameters_;
  LogSink sink_;
  std::shared_ptr<QueryRecorder> recorder_;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void Logger::line(std::string_view text) const {
  if (sink_) {
    sink_(text);
  } else {
    std::string s = fmt::format("[alchemy.engine] {}\n", text);
    std::fwrite(s.data(), 1, s.size(), stderr);
  }
}

ALCHEMY_INLINE void Logger::statement(std::string_view sql, std::span<const sql::ValueRef> params) const {
  line(sql);
  if (hide_parameters_) {
    line("[SQL parameters hidden due to hide_parameters=True]");
    return;
  }
  std::string p = "[parameters: (";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) p += ", ";
    append(p, params[i]);
  }
  if (params.size() == 1) p += ',';
  p += ")]";
  line(p);
}

ALCHEMY_INLINE void Logger::append(std::string& out, sql::ValueRef v) {
  switch (v.kind()) {
    case sql::ValueKind::null: out += "None"; break;
    case sql::ValueKind::integer: out += std::to_string(v.as_integer()); break;
    case sql::ValueKind::real: out += fmt::format("{}", v.as_real()); break;
    case sql::ValueKind::boolean: out += v.as_boolean() ? "True" : "False"; break;
    case sql::ValueKind::text: {
      const auto t = v.as_text();
      out += '\'';
      if (t.size() > 100) {
        out.append(t.substr(0, 100));
        out += fmt::format("... ({} characters truncated) ...", t.size() - 100);
      } else {
        out.append(t);
      }
      out += '\'';
      break;
    }
    case sql::ValueKind::blob: out += fmt::format("<{} bytes>", v.as_blob().size()); break;
    case sql::ValueKind::date: out += "'" + sql::detail::format_date(v.as_date()) + "'"; break;
    case sql::ValueKind::datetime:
      out += "'" + sql::detail::format_datetime(v.as_datetime()) + "'";
      break;
  }
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::engine

#endif  // ALCHEMY_ENGINE_LOG_HPP_
