#include "app/logging.hpp"

#include <memory>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "observability/trace.hpp"

namespace orderd::app {

namespace {

/// `%*` in a pattern: the log message escaped as a JSON string body.
class json_escaped_message : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char hex[] = "0123456789abcdef";
    for (char c : msg.payload) {
      switch (c) {
        case '"':
          dest.append(std::string_view{"\\\""});
          break;
        case '\\':
          dest.append(std::string_view{"\\\\"});
          break;
        case '\n':
          dest.append(std::string_view{"\\n"});
          break;
        case '\r':
          dest.append(std::string_view{"\\r"});
          break;
        case '\t':
          dest.append(std::string_view{"\\t"});
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[(c >> 4) & 0xF], hex[c & 0xF]};
            dest.append(esc, esc + 6);
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_escaped_message>();
  }
};

/// `%~` in a pattern: `,"trace_id":"<id>"` while the logging thread handles something traced
/// (observability::log_trace_scope), nothing otherwise. Trace ids are hex: nothing to escape.
class json_trace_field : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    auto id = observability::current_log_trace_id();
    if (id.empty())
      return;
    dest.append(std::string_view{R"(,"trace_id":")"});
    dest.append(id);
    dest.push_back('"');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_trace_field>();
  }
};

} // namespace

void setup_logging(const std::string& level, const std::string& format) {
  // stdout, unsynchronised sinks are not safe across threads: use the mutex-guarded one.
  auto logger = std::make_shared<spdlog::logger>("orderd",
                                                 std::make_shared<spdlog::sinks::stdout_sink_mt>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    formatter->add_flag<json_escaped_message>('*');
    formatter->add_flag<json_trace_field>('~');
    formatter->set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%*"%~})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l [%t] %v");
  }
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::from_str(level));
  // Warnings and errors reach the terminal at once; info is flushed every second.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  spdlog::flush_every(std::chrono::seconds(1));
}

} // namespace orderd::app
