// SPDX-License-Identifier: MIT
// Reading a (string, count) row as (int64_t, int64_t) must not compile.
// expect: conversion from
#include "models.hpp"
int main() {
  auto f = [](alchemy::Query<Account> a) {
    std::vector<std::tuple<int64_t, int64_t>> rows =
        a.with_entities(Account::handle_, alchemy::func::count()).all();
    return rows;
  };
  (void)f;
}
