#pragma once

#include <string_view>

namespace orderd::http {

/// The OpenAPI 3 document of the REST API (docs/openapi.json), embedded into the binary at build
/// time: CMake reads the file into a generated source (http/openapi.cpp.in), so a running orderd
/// needs no file to serve `GET /openapi.json`. tests/unit/openapi_test.cpp fails when its paths
/// and methods drift from the routing table (api::route_list()).
std::string_view openapi_document() noexcept;

} // namespace orderd::http
