// SPDX-License-Identifier: MIT
// A reader of fuzzer input bytes: takes integers, choices and byte strings from the front and
// returns zeros once the input is used up, so every input, however short, is a valid program.
// (libFuzzer's FuzzedDataProvider does the same, but ships with clang only; the replay driver
// also builds with g++.)
#ifndef ALCHEMY_TESTS_FUZZ_FUZZ_INPUT_HPP_
#define ALCHEMY_TESTS_FUZZ_FUZZ_INPUT_HPP_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace fuzz {

class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}

  bool empty() const noexcept { return n_ == 0; }
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  bool flag() { return byte() & 1; }
  /// A number in [0, n) (n ≥ 1).
  std::size_t pick(std::size_t n) { return n <= 256 ? byte() % n : u32() % n; }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return v;
  }
  std::uint64_t u64() { return (std::uint64_t(u32()) << 32) | u32(); }
  double real() {
    const std::uint64_t bits = u64();
    double d;
    std::memcpy(&d, &bits, sizeof d);  // any bit pattern: NaN, infinities, denormals
    return d;
  }
  /// A string of up to `max` bytes, any byte values; its length comes first.
  std::string bytes(std::size_t max) {
    std::size_t len = byte();
    if (len == 255) len += u32() % 4096;  // now and then a long one
    if (len > max) len = max;
    if (len > n_) len = n_;
    std::string s(reinterpret_cast<const char*>(p_), len);
    p_ += len;
    n_ -= len;
    return s;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace fuzz

#endif  // ALCHEMY_TESTS_FUZZ_FUZZ_INPUT_HPP_
