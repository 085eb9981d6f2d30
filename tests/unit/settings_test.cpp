#define CAF_SUITE settings
#include <caf/test/dsl.hpp>

CAF_TEST(placeholder) {
  CAF_CHECK(true);
}
