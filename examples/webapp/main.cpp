// SPDX-License-Identifier: MIT
// The webapp example's server: app.hpp's JSON service on 127.0.0.1 until SIGINT or SIGTERM.
//
//   ./webapp                                      # sqlite:///webapp.db, port 8080
//   ./webapp postgresql://app:secret@127.0.0.1:5432/app 0     # port 0: a free one, printed
//   ./webapp --reset sqlite:///webapp.db 8080                 # drop the tables first
//
//   curl -s -X POST localhost:8080/accounts -d '{"handle": "jdoe"}'
//   curl -s 'localhost:8080/accounts?page=1&per_page=10'
#include "app.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <pthread.h>
#include <string>
#include <thread>

int main(int argc, char** argv) {
  std::string url = "sqlite:///webapp.db";
  int port = 8080;
  bool reset = false;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf("usage: webapp [--reset] [DATABASE_URL [PORT]]  (default sqlite:///webapp.db 8080, PORT 0: any free port)\n");
      return 0;
    }
    if (arg == "--reset") {
      reset = true;
    } else if (positional == 0) {
      url = arg;
      ++positional;
    } else if (positional == 1) {
      char* end = nullptr;
      const long p = std::strtol(arg.c_str(), &end, 10);
      if (arg.empty() || *end != '\0' || p < 0 || p > 65535) {
        std::fprintf(stderr, "webapp: bad port '%s'\n", arg.c_str());
        return 2;
      }
      port = static_cast<int>(p);
      ++positional;
    } else {
      std::fprintf(stderr, "webapp: unexpected argument '%s' (see --help)\n", arg.c_str());
      return 2;
    }
  }

  // SIGINT and SIGTERM are taken by one thread with sigwait(), which stops the server; every
  // other thread (httplib's workers included) inherits the blocked mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    webapp::App app(url, reset);
    const int bound = app.bind(port);
    if (bound < 0) {
      std::fprintf(stderr, "webapp: cannot bind 127.0.0.1:%d\n", port);
      return 1;
    }
    std::thread([&app, &stop_signals] {
      int sig = 0;
      sigwait(&stop_signals, &sig);
      // stop() before listen() has started would be lost: wait for the server to run.
      while (!app.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      app.stop();
    }).detach();
    std::printf("webapp: %s database, listening on http://127.0.0.1:%d\n",
                std::string(app.db().engine().url().dialect()).c_str(), bound);
    std::fflush(stdout);
    if (!app.listen()) return 1;
    std::printf("webapp: stopped\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "webapp: %s\n", e.what());  // alchemy's messages never hold passwords
    return 1;
  }
  return 0;
}
