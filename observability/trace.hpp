#pragma once

// W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing and making `traceparent`
// values, deriving a trace id from a correlation id, and the trace id of the log lines the
// current thread writes. Plain C++.

#include <optional>
#include <string>
#include <string_view>

namespace orderd::observability {

/// One `traceparent`: version 00, 32 hex digits of trace id, 16 of parent (span) id, flags.
struct trace_context {
  std::string trace_id; ///< 32 lowercase hex digits, not all zero
  std::string span_id;  ///< 16 lowercase hex digits, not all zero
  uint8_t flags = 0;    ///< bit 0: sampled
};

/// Parses a `traceparent` header value. Nothing for anything malformed: wrong length or
/// separators, uppercase or non-hex digits, an all-zero id, version ff, or (version 00) extra
/// characters. Later versions may append fields after a '-'; those are accepted and ignored.
std::optional<trace_context> parse_traceparent(std::string_view text);

/// A new context: random trace and span ids, sampled.
trace_context make_trace_context();

/// `n` random lowercase hex digits, never all zero.
std::string random_hex_id(size_t n);

/// "00-<trace id>-<span id>-<flags>".
std::string format_traceparent(const trace_context& c);

/// True for 32 lowercase hex digits, not all zero.
bool is_trace_id(std::string_view text) noexcept;

/// The trace id a correlation id stands for: itself when it is a trace id; a UUID without its
/// dashes (lowercased); otherwise a 128-bit hash of it, so the same correlation id always maps
/// to the same trace id. Empty for an empty input.
std::string trace_id_of_correlation(std::string_view correlation_id);

/// The `traceparent` of a message published for an event: the trace of its correlation id
/// (trace_id_of_correlation), a span id taken from the event id's last 16 hex digits (random
/// bits of its UUIDv7, so each message is its own span), sampled. A new random trace for an empty
/// correlation id.
std::string traceparent_for_event(std::string_view correlation_id, std::string_view event_id);

/// The trace id of the log lines this thread writes while a scope is alive ("" outside any).
std::string_view current_log_trace_id() noexcept;

/// Sets the current thread's log trace id for its lifetime (restoring the previous one).
/// Actor handlers run to completion on one thread, so a scope around a handler's body labels
/// exactly its lines.
class log_trace_scope {
public:
  explicit log_trace_scope(std::string_view trace_id) noexcept;
  ~log_trace_scope();
  log_trace_scope(const log_trace_scope&) = delete;
  log_trace_scope& operator=(const log_trace_scope&) = delete;

private:
  char saved_[33];
};

} // namespace orderd::observability
