// The one translation unit per test binary that defines CAF's test runner `main`.
#include <caf/test/unit_test_impl.hpp>
