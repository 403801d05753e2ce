// placeholder until the unit tests land
#include <catch2/catch.hpp>
