// SPDX-License-Identifier: MIT
// File: orm/token.hpp
//
// token_hex(n): n random bytes from the operating system's CSPRNG, as 2n hex digits — Python's
// secrets.token_hex, for keys and secrets a model generates.
#ifndef ALCHEMY_ORM_TOKEN_HPP_
#define ALCHEMY_ORM_TOKEN_HPP_

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "alchemy/error.hpp"

namespace alchemy {

inline std::string token_hex(std::size_t nbytes = 32) {
  std::vector<std::uint8_t> bytes(nbytes);
  std::size_t got = 0;
  while (got < nbytes) {
    const auto n = ::getrandom(bytes.data() + got, nbytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error("token_hex(): the operating system's random source failed");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(nbytes * 2);
  for (auto b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_TOKEN_HPP_
