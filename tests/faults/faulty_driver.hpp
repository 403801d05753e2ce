// SPDX-License-Identifier: MIT
// A fault-injecting wrapper of the real SQLite driver, registered under the test-only URL scheme
// "sqlite+faulty" (sqlite+faulty:///path.db). Every driver call it forwards is numbered; the
// plan makes call number N throw what the real driver throws for an I/O error (OperationalError,
// SQLITE_IOERR), before the real call runs: the database never sees the failed call. That is
// SQLite's own anomaly-testing method: run an operation with N = 1, 2, ... until it completes
// without reaching call N.
//
// Fault points: connect, prepare, bind, execute, next, begin, commit, rollback, execute(sql),
// has_table. Not faulted: the noexcept calls (column access, reset, ping, counters) and closing,
// which cannot fail in the real driver either.
//
// Modes: once (only call N fails) and persistent (call N and every later call fail, SQLite's
// "fail forever after the first failure"). The plan is global and the wrapper single-threaded.
#ifndef ALCHEMY_TESTS_FAULTS_FAULTY_DRIVER_HPP_
#define ALCHEMY_TESTS_FAULTS_FAULTY_DRIVER_HPP_

#include <alchemy/dialect/sqlite/driver.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace faults {

struct Plan {
  bool armed = false;
  bool persistent = false;
  std::int64_t fail_at = 0;    ///< 0: never
  std::int64_t calls = 0;      ///< driver calls since arm()
  std::int64_t injected = 0;   ///< faults thrown since arm()
  std::string first_fault;     ///< which call the first fault hit, for messages

  void arm(std::int64_t n, bool forever) {
    armed = true;
    persistent = forever;
    fail_at = n;
    calls = injected = 0;
    first_fault.clear();
  }
  void disarm() { armed = false; }
};

inline Plan& plan() {
  static Plan p;
  return p;
}

/// Counts one driver call; throws the injected fault when the plan says so.
inline void tick(const char* call, const std::string& sql = {}) {
  auto& p = plan();
  if (!p.armed) return;
  ++p.calls;
  if (p.fail_at == 0 || p.calls < p.fail_at || (p.calls > p.fail_at && !p.persistent)) return;
  if (p.injected++ == 0) p.first_fault = call;
  // The real driver's error path, so the exception is exactly what an I/O error gives.
  alchemy::dialect::sqlite::throw_error(SQLITE_IOERR, std::string("injected fault in ") + call, sql);
}

class Statement final : public alchemy::dialect::Statement {
 public:
  explicit Statement(alchemy::dialect::Statement& inner) : inner_(inner) {}
  const std::string& sql() const noexcept override { return inner_.sql(); }
  int param_count() const noexcept override { return inner_.param_count(); }
  void bind(int index, alchemy::sql::ValueRef value) override {
    tick("bind", inner_.sql());
    inner_.bind(index, value);
  }
  void execute() override {
    tick("execute", inner_.sql());
    inner_.execute();
  }
  bool next() override {
    tick("next", inner_.sql());
    return inner_.next();
  }
  int column_count() const noexcept override { return inner_.column_count(); }
  std::string column_name(int index) const override { return inner_.column_name(index); }
  alchemy::sql::ValueRef column(int index, alchemy::sql::TypeKind hint) override {
    return inner_.column(index, hint);
  }
  std::int64_t affected_rows() const noexcept override { return inner_.affected_rows(); }
  std::optional<std::int64_t> last_insert_id() const noexcept override { return inner_.last_insert_id(); }
  void reset() noexcept override { inner_.reset(); }

 private:
  alchemy::dialect::Statement& inner_;
};

class Connection final : public alchemy::dialect::Connection {
 public:
  explicit Connection(std::unique_ptr<alchemy::dialect::Connection> inner) : inner_(std::move(inner)) {}

  alchemy::dialect::Statement& prepare(const std::string& sql) override {
    tick("prepare", sql);
    auto& real = inner_->prepare(sql);
    auto& wrapped = statements_[&real];
    if (!wrapped) wrapped = std::make_unique<Statement>(real);
    return *wrapped;
  }
  void execute(std::string_view sql) override {
    tick("execute(sql)", std::string(sql));
    inner_->execute(sql);
  }
  void begin() override {
    tick("begin", "BEGIN");
    inner_->begin();
  }
  void commit() override {
    tick("commit", "COMMIT");
    inner_->commit();
  }
  void rollback() override {
    tick("rollback", "ROLLBACK");
    inner_->rollback();
  }
  bool ping() noexcept override { return inner_->ping(); }
  bool is_broken() const noexcept override { return inner_->is_broken(); }
  bool has_table(std::string_view name) override {
    tick("has_table");
    return inner_->has_table(name);
  }

 private:
  std::unique_ptr<alchemy::dialect::Connection> inner_;
  // Wrappers of the inner connection's cached statements; destroyed before them.
  std::unordered_map<const alchemy::dialect::Statement*, std::unique_ptr<Statement>> statements_;
};

class Driver final : public alchemy::dialect::Driver {
 public:
  std::string_view name() const noexcept override { return "sqlite"; }
  const alchemy::dialect::Dialect& dialect() const noexcept override {
    return alchemy::dialect::sqlite::driver().dialect();
  }
  std::unique_ptr<alchemy::dialect::Connection> connect(const alchemy::dialect::ConnectParams& params) const override {
    tick("connect");
    return std::make_unique<Connection>(alchemy::dialect::sqlite::driver().connect(params));
  }
};

inline const alchemy::dialect::Driver& driver() {
  static const Driver d;
  return d;
}

inline const bool registered = alchemy::dialect::register_driver("sqlite+faulty", &driver);

}  // namespace faults

#endif  // ALCHEMY_TESTS_FAULTS_FAULTY_DRIVER_HPP_
