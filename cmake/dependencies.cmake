# Third-party dependencies, all from Debian 12 packages (see scripts/deps.sh).
find_package(Threads REQUIRED)

# CAF 0.17 ships no CMake package and no pkg-config file on Debian.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf_core INTERFACE)
target_include_directories(caf_core SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf_core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)
add_library(caf_io INTERFACE)
target_link_libraries(caf_io INTERFACE ${CAF_IO_LIBRARY} caf_core)

# Boost 1.81: Beast and Asio are header-only.
find_path(BOOST_BEAST_INCLUDE_DIR boost/beast.hpp REQUIRED)
add_library(boost_beast INTERFACE)
target_include_directories(boost_beast SYSTEM INTERFACE ${BOOST_BEAST_INCLUDE_DIR})
target_compile_definitions(boost_beast INTERFACE BOOST_ASIO_NO_DEPRECATED)
target_link_libraries(boost_beast INTERFACE Threads::Threads)

find_package(nlohmann_json 3.10 REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED) # libpq, for the PostgreSQL store

# jemalloc (Debian libjemalloc-dev): the request path allocates from several threads at once;
# glibc malloc cost ~10% of CPU in profiles, jemalloc about half of that. Optional.
find_library(JEMALLOC_LIBRARY jemalloc)
