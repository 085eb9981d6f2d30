#pragma once

#include <vector>

#include "domain/product.hpp"

namespace orderd::app {

/// A small shop's catalogue, loaded by `--demo-catalogue` into an empty store so that a new
/// user can place orders at once.
std::vector<product> demo_catalogue(timestamp_ms now);

} // namespace orderd::app
