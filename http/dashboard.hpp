#pragma once

#include <string_view>

namespace orderd::http {

/// The operations dashboard served at `GET /dashboard`: one HTML page with its stylesheet and
/// script inlined, built by CMake from http/dashboard/{index.html,dashboard.css,dashboard.js}
/// (http/dashboard.cpp.in), so the binary needs no file and no build step at run time. The page
/// reads the admin JSON endpoints with the bearer token it finds in the URL fragment
/// (`#token=...`) or its token box.
std::string_view dashboard_page() noexcept;

} // namespace orderd::http
