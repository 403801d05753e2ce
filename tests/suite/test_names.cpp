// SPDX-License-Identifier: MIT
// (being written)
#include "support.hpp"
