#include "persistence/postgres/connection.hpp"

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <libpq-fe.h>
#include <poll.h>

namespace orderd::persistence::postgres {

namespace {

/// Replaces every occurrence of `secret` in `text` (a password libpq or the server echoed).
std::string scrub(std::string text, const std::string& secret) {
  if (secret.empty())
    return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

/// The password libpq parsed from `conninfo`, if any (URI or keyword/value form alike).
std::string password_of(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr)
    PQfreemem(error);
  if (options == nullptr)
    return {};
  std::string password;
  for (auto* o = options; o->keyword != nullptr; ++o)
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr)
      password = o->val;
  PQconninfoFree(options);
  return password;
}

std::string trimmed(const char* message) {
  std::string text = message == nullptr ? "" : message;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

} // namespace

std::string redact(std::string_view conninfo) {
  std::string text{conninfo};
  // URI form: scheme://user:password@host...
  if (auto scheme = text.find("://"); scheme != std::string::npos) {
    auto authority = scheme + 3;
    auto end = text.find_first_of("/?", authority);
    auto at = text.rfind('@', end == std::string::npos ? text.size() : end);
    if (at != std::string::npos && at > authority) {
      auto colon = text.find(':', authority);
      if (colon != std::string::npos && colon < at)
        text.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... and sslpassword=... as URI query parameters or keyword/value pairs (quoted or
  // not).
  for (std::string_view key : {"password=", "sslpassword="}) {
    for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
      if (at > 0 && std::string_view{"?& \t"}.find(text[at - 1]) == std::string_view::npos)
        continue; // the tail of another key ("sslpassword=" seen while looking for "password=")
      auto value = at + key.size();
      size_t end = value;
      if (end < text.size() && text[end] == '\'') {
        ++end;
        while (end < text.size() && text[end] != '\'')
          end += text[end] == '\\' ? 2 : 1;
        end = std::min(end + 1, text.size());
      } else {
        end = text.find_first_of("& \t", value);
        if (end == std::string::npos)
          end = text.size();
      }
      text.replace(value, end - value, "***");
    }
  }
  return text;
}

int result::rows() const noexcept {
  return PQntuples(res_.get());
}

bool result::is_null(int row, int col) const noexcept {
  return PQgetisnull(res_.get(), row, col) != 0;
}

std::string result::text(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col),
          static_cast<size_t>(PQgetlength(res_.get(), row, col))};
}

int64_t result::int64(int row, int col) const {
  const char* value = PQgetvalue(res_.get(), row, col);
  int64_t x = 0;
  auto [ptr, ec] = std::from_chars(value, value + std::strlen(value), x);
  if (ec != std::errc{})
    throw store_error(errc::storage_failure,
                      "PostgreSQL returned a non-integer where a number was expected: " +
                        std::string{value});
  return x;
}

int64_t result::affected() const {
  const char* n = PQcmdTuples(res_.get());
  int64_t x = 0;
  std::from_chars(n, n + std::strlen(n), x);
  return x;
}

void result::deleter::operator()(pg_result* r) const noexcept {
  PQclear(r);
}

connection::connection(const std::string& conninfo)
  : label_(redact(conninfo)), password_(password_of(conninfo)) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (conn_ == nullptr)
    throw pg_error(errc::unavailable, "", "cannot connect to PostgreSQL at " + label_ +
                                            ": out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    auto why = scrub(trimmed(PQerrorMessage(conn_)), password_);
    PQfinish(conn_);
    conn_ = nullptr;
    throw pg_error(errc::unavailable, "", "cannot connect to PostgreSQL at " + label_ + ": " + why);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

connection::~connection() {
  if (conn_ != nullptr)
    PQfinish(conn_);
}

result connection::exec(const std::string& sql) {
  return check(PQexec(conn_, sql.c_str()), sql);
}

result connection::exec(const std::string& sql,
                        const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                            values.data(), nullptr, nullptr, 0),
               sql);
}

result connection::run(const std::string& sql,
                       const std::vector<std::optional<std::string>>& params) {
  if (pipeline_)
    return take(send(sql, params));
  auto known = prepared_.find(sql);
  if (known == prepared_.end()) {
    auto name = "orderd_" + std::to_string(prepared_.size() + 1);
    check(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), sql);
    known = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  return check(PQexecPrepared(conn_, known->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0),
               sql);
}

bool connection::healthy() const noexcept {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

void connection::enter_pipeline() {
  if (pipeline_)
    return;
  if (PQenterPipelineMode(conn_) != 1)
    throw pg_error(errc::storage_failure, "", "PostgreSQL (" + label_ +
                                                "): cannot enter pipeline mode: " +
                                                scrub(trimmed(PQerrorMessage(conn_)), password_));
  pipeline_ = true;
  first_failure_.reset();
  flushed_ = true;
}

void connection::leave_pipeline() noexcept {
  if (!pipeline_)
    return;
  try {
    if (healthy() && PQpipelineSync(conn_) == 1) {
      while (!due_.empty())
        read_next_answer();
      // Then the sync's own answer.
      while (healthy()) {
        pg_result* res = PQgetResult(conn_);
        if (res == nullptr)
          continue;
        auto status = PQresultStatus(res);
        PQclear(res);
        if (status == PGRES_PIPELINE_SYNC)
          break;
      }
    }
  } catch (...) {
    // The session broke: nothing more to read; the next call finds it unhealthy.
  }
  if (healthy())
    PQexitPipelineMode(conn_);
  due_.clear();
  answers_.clear();
  first_failure_.reset();
  pipeline_ = false;
}

connection::ticket connection::send(const std::string& sql,
                                    const std::vector<std::optional<std::string>>& params) {
  auto id = next_ticket_++;
  if (!pipeline_) {
    answers_.emplace(id, run(sql, params));
    return id;
  }
  auto known = prepared_.find(sql);
  if (known == prepared_.end()) {
    auto name = "orderd_" + std::to_string(prepared_.size() + 1);
    if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) != 1)
      throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): cannot send: " +
                                              scrub(trimmed(PQerrorMessage(conn_)), password_));
    due_.push_back({0, sql});
    known = prepared_.emplace(sql, std::move(name)).first;
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  if (PQsendQueryPrepared(conn_, known->second.c_str(), static_cast<int>(values.size()),
                          values.data(), nullptr, nullptr, 0)
      != 1)
    throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): cannot send: " +
                                            scrub(trimmed(PQerrorMessage(conn_)), password_));
  due_.push_back({id, sql});
  flushed_ = false;
  return id;
}

result connection::take(ticket t) {
  if (pipeline_ && answers_.find(t) == answers_.end()) {
    if (!flushed_) {
      // Ask the server to send what it has, without ending the pipeline's implicit segment.
      if (PQsendFlushRequest(conn_) != 1 || PQflush(conn_) != 0)
        throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): cannot flush: " +
                                                scrub(trimmed(PQerrorMessage(conn_)), password_));
      flushed_ = true;
    }
    while (answers_.find(t) == answers_.end()) {
      if (due_.empty())
        throw pg_error(errc::internal, "", "PostgreSQL (" + label_ + "): no answer due for "
                                             "statement " + std::to_string(t));
      read_next_answer();
    }
  }
  auto found = answers_.find(t);
  if (found == answers_.end())
    throw pg_error(errc::internal, "", "PostgreSQL (" + label_ + "): statement " +
                                         std::to_string(t) + " has no answer");
  auto answer = std::move(found->second);
  answers_.erase(found);
  if (auto* failure = std::get_if<pg_error>(&answer))
    throw *failure;
  return std::move(std::get<result>(answer));
}

void connection::await_answer(const std::string& sql) {
  // A pipeline's answer comes within the time any statement may take here; a session that
  // stays silent longer is dropped (its transaction rolls back on the server) rather than
  // holding the writer, and the shard leases it fences, forever.
  constexpr auto limit = std::chrono::seconds{15};
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (PQisBusy(conn_)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      PQfinish(conn_);
      conn_ = nullptr;
      throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): no answer within "
                                              + std::to_string(limit.count()) + " s to "
                                              + sql.substr(0, 80) + "; session dropped");
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
      throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): cannot wait: "
                                              + std::strerror(errno));
    if (PQconsumeInput(conn_) != 1)
      throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): no answer: " +
                                              scrub(trimmed(PQerrorMessage(conn_)), password_));
  }
}

void connection::read_next_answer() {
  auto next = std::move(due_.front());
  due_.pop_front();
  await_answer(next.sql);
  pg_result* res = PQgetResult(conn_);
  if (res == nullptr)
    throw pg_error(errc::unavailable, "", "PostgreSQL (" + label_ + "): no answer: " +
                                            scrub(trimmed(PQerrorMessage(conn_)), password_));
  result owned{res};
  // Each statement's answer ends with a null result.
  if (pg_result* stray = PQgetResult(conn_))
    PQclear(stray);
  auto status = PQresultStatus(res);
  std::optional<pg_error> failure;
  if (status == PGRES_PIPELINE_ABORTED) {
    failure = first_failure_ ? *first_failure_
                             : pg_error(errc::storage_failure, "", "PostgreSQL (" + label_ +
                                                                     "): statement skipped");
  } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    failure = error_of(res, next.sql);
    if (!first_failure_)
      first_failure_ = failure;
    if (next.id == 0)
      prepared_.erase(next.sql); // the PREPARE failed: a later use must send it again
  }
  if (next.id == 0)
    return; // a PREPARE's answer: only its failure matters, and the statement reports it too
  if (failure)
    answers_.emplace(next.id, std::move(*failure));
  else
    answers_.emplace(next.id, std::move(owned));
}

result connection::check(pg_result* res, const std::string& sql) {
  result owned{res};
  auto status = res == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(res);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
    return owned;
  throw error_of(res, sql);
}

pg_error connection::error_of(pg_result* res, const std::string& sql) {
  const char* state = res == nullptr ? nullptr : PQresultErrorField(res, PG_DIAG_SQLSTATE);
  std::string sqlstate = state == nullptr ? "" : state;
  auto why = scrub(trimmed(res != nullptr ? PQresultErrorMessage(res) : PQerrorMessage(conn_)),
                   password_);
  if (why.empty())
    why = scrub(trimmed(PQerrorMessage(conn_)), password_);
  // Class 08 (connection exception), the server shutting down or not yet accepting (57P01-03),
  // or a session libpq saw break: the database is unreachable rather than the statement wrong.
  bool lost = sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P0", 0) == 0
              || PQstatus(conn_) != CONNECTION_OK;
  auto first_line = sql.substr(0, sql.find('\n'));
  return pg_error(lost ? errc::unavailable : errc::storage_failure, sqlstate,
                  "PostgreSQL (" + label_ + ")" + (sqlstate.empty() ? "" : " " + sqlstate) + ": " +
                    why + " [in: " + first_line.substr(0, 80) + "]");
}

} // namespace orderd::persistence::postgres
