#define CAF_SUITE openapi
#include <caf/test/dsl.hpp>

// docs/openapi.json (embedded in the binary) against the routing table: fails when a route
// exists that the document lacks, or the reverse, and when the document is internally
// inconsistent (dangling $ref, undeclared path parameter, body routes without 413/415).

#include "http/api.hpp"
#include "http/openapi.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

using namespace orderd;
using namespace orderd::http;
using json = nlohmann::json;

namespace {

const std::set<std::string> http_methods{"get", "put", "post", "delete", "patch", "head",
                                         "options", "trace"};

/// An API over empty services: route_list() and the routes that answer without an actor work;
/// every other route answers 503 (its actor slot is empty), which is enough to see it routed.
api make_api(bool fault_injection) {
  auto svc = std::make_shared<services>(runtime_options{}, nullptr, [] { return timestamp_ms{0}; });
  api_options opts;
  opts.enable_fault_injection = fault_injection;
  return api{svc, opts};
}

json document() {
  auto text = openapi_document();
  return json::parse(text.begin(), text.end(), nullptr, false);
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

/// "METHOD /path" for every operation in the document.
std::set<std::string> documented_operations(const json& doc) {
  std::set<std::string> out;
  for (auto& [path, item] : doc.at("paths").items())
    for (auto& [key, op] : item.items())
      if (http_methods.count(key))
        out.insert(upper(key) + " " + path);
  return out;
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += "\n  " + x;
  return out;
}

/// The node a local "#/a/b" reference points to, if any.
const json* resolve(const json& doc, const std::string& ref) {
  if (ref.rfind("#/", 0) != 0)
    return nullptr;
  try {
    auto& node = doc.at(json::json_pointer{ref.substr(1)});
    return &node;
  } catch (const json::exception&) {
    return nullptr;
  }
}

void collect_refs(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string())
        out.push_back(value.get<std::string>());
      else
        collect_refs(value, out);
    }
  } else if (node.is_array()) {
    for (auto& value : node)
      collect_refs(value, out);
  }
}

/// Names of the path parameters declared for one operation (path-level and operation-level).
std::set<std::string> declared_path_params(const json& doc, const json& item, const json& op) {
  std::set<std::string> out;
  for (auto* list : {&item, &op}) {
    if (!list->contains("parameters"))
      continue;
    for (auto p : list->at("parameters")) {
      if (p.contains("$ref"))
        if (auto* target = resolve(doc, p["$ref"].get<std::string>()))
          p = *target;
      if (p.value("in", "") == "path") {
        CAF_CHECK_EQUAL(p.value("required", false), true);
        out.insert(p.value("name", ""));
      }
    }
  }
  return out;
}

struct captured : detail::reply_slot {
  std::optional<response> got;
  void send(response&& r) override {
    got = std::move(r);
  }
};

/// Dispatches one request through api::handle and returns what it answered synchronously.
std::optional<response> call(api& a, std::string method, std::string path, std::string body = {}) {
  request req;
  req.method = std::move(method);
  req.target = path;
  req.raw_path = path;
  req.path = std::move(path);
  if (!body.empty()) {
    req.headers.emplace_back("content-type", "application/json");
    req.body = std::move(body);
  }
  auto slot = std::make_shared<captured>();
  a.handle(std::move(req), responder{slot});
  return slot->got;
}

} // namespace

CAF_TEST(the embedded document is JSON and OpenAPI 3.0) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  CAF_REQUIRE(doc.is_object());
  CAF_CHECK(doc.value("openapi", "").rfind("3.0.", 0) == 0);
  CAF_CHECK(doc.contains("info") && doc["info"].contains("title") && doc["info"].contains("version"));
  CAF_REQUIRE(doc.contains("paths") && doc["paths"].is_object());
}

CAF_TEST(every route is documented and every documented operation is a route) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  auto a = make_api(true); // with fault injection, so the admin route is in the table
  std::set<std::string> routes;
  for (auto& r : a.route_list()) {
    CAF_CHECK(routes.insert(r).second); // no route registered twice
  }
  auto documented = documented_operations(doc);
  std::vector<std::string> undocumented, unrouted;
  std::set_difference(routes.begin(), routes.end(), documented.begin(), documented.end(),
                      std::back_inserter(undocumented));
  std::set_difference(documented.begin(), documented.end(), routes.begin(), routes.end(),
                      std::back_inserter(unrouted));
  if (!undocumented.empty() || !unrouted.empty())
    CAF_FAIL("docs/openapi.json and api::route_list() differ"
             << "\nroutes missing from the document:" << join(undocumented)
             << "\ndocumented operations that no route serves:" << join(unrouted));
  CAF_CHECK_EQUAL(routes.size(), documented.size());
  CAF_CHECK(routes.count("GET /openapi.json") == 1);
}

CAF_TEST(operations only present with a flag say so) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  auto plain = make_api(false);
  auto list = plain.route_list();
  std::set<std::string> routes(list.begin(), list.end());
  CAF_CHECK(routes.count("POST /api/v1/admin/faults") == 0);
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      auto name = upper(method) + " " + path;
      bool conditional = op.contains("x-orderd-requires");
      if (routes.count(name) == 0 && !conditional)
        CAF_FAIL(name << " is not served by default but lacks x-orderd-requires");
      if (routes.count(name) == 1 && conditional)
        CAF_FAIL(name << " is served by default but has x-orderd-requires");
    }
  CAF_CHECK_EQUAL(doc["paths"]["/api/v1/admin/faults"]["post"].value("x-orderd-requires", ""),
                  "--enable-fault-injection");
}

CAF_TEST(every reference resolves) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  CAF_CHECK(!refs.empty());
  for (auto& ref : refs)
    if (resolve(doc, ref) == nullptr)
      CAF_FAIL("dangling $ref " << ref);
}

CAF_TEST(path parameters match the placeholders) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  std::regex placeholder{R"(\{([^}/]+)\})"};
  for (auto& [path, item] : doc["paths"].items()) {
    std::set<std::string> in_path;
    for (std::sregex_iterator i{path.begin(), path.end(), placeholder}, end; i != end; ++i)
      in_path.insert((*i)[1].str());
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      auto declared = declared_path_params(doc, item, op);
      if (declared != in_path)
        CAF_FAIL(upper(method) << " " << path << ": path parameters declared do not match the "
                                  "placeholders");
    }
  }
}

CAF_TEST(every operation documents its responses) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  std::regex status{"[1-5][0-9][0-9]|default"};
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      auto name = upper(method) + " " + path;
      CAF_REQUIRE(op.contains("responses") && op["responses"].is_object());
      auto& responses = op["responses"];
      bool has_success = false;
      for (auto& [code, r] : responses.items()) {
        CAF_CHECK(std::regex_match(code, status));
        has_success = has_success || code.front() == '2';
        CAF_CHECK(r.contains("$ref") || r.contains("description"));
      }
      if (!has_success)
        CAF_FAIL(name << " documents no 2xx response");
      CAF_CHECK(op.contains("operationId"));
      // A JSON body route also answers 413 (too large) and 415 (not application/json).
      if (op.contains("requestBody")) {
        if (!responses.contains("413") || !responses.contains("415"))
          CAF_FAIL(name << " takes a body but documents no 413 or 415");
        CAF_CHECK(op["requestBody"]["content"].contains("application/json"));
      }
      // Every route that asks an actor can answer 503; only /health, /openapi.json, the
      // dashboard page, /metrics (shows the last values instead) and the fault route
      // (fire-and-forget) cannot.
      bool asks_actor = path != "/health" && path != "/openapi.json" && path != "/dashboard"
                        && path != "/metrics" && path != "/api/v1/admin/faults";
      if (asks_actor && !responses.contains("503"))
        CAF_FAIL(name << " documents no 503");
    }
}

CAF_TEST(every documented operation is routed by api handle) {
  auto doc = document();
  CAF_REQUIRE(!doc.is_discarded());
  auto a = make_api(true);
  for (auto& [path, item] : doc["paths"].items())
    for (auto& [method, op] : item.items()) {
      if (!http_methods.count(method))
        continue;
      auto concrete = std::regex_replace(path, std::regex{R"(\{sku\})"}, "DOC-SKU-1");
      concrete = std::regex_replace(concrete, std::regex{R"(\{id\})"},
                                    "00000000-0000-4000-8000-000000000000");
      concrete = std::regex_replace(concrete, std::regex{R"(\{message_id\})"}, "doc-message-1");
      CAF_REQUIRE(concrete.find('{') == std::string::npos);
      // Bodies are "{}": invalid for every route, so nothing would change even with actors.
      auto got = call(a, upper(method), concrete, op.contains("requestBody") ? "{}" : "");
      auto name = upper(method) + " " + path;
      if (!got)
        CAF_FAIL(name << " did not answer");
      auto status = std::to_string(got->status);
      if ((got->status == 404 && got->body.find("/problems/no-route") != std::string::npos)
          || got->status == 405)
        CAF_FAIL(name << " is not routed: " << got->status << " " << got->body);
      // With empty actor slots every route answers synchronously: 200, 400 or 503, each of
      // which must be listed explicitly (not only covered by "default").
      if (!op["responses"].contains(status))
        CAF_FAIL(name << " answered undocumented status " << status);
    }
}

CAF_TEST(GET openapi json serves the embedded document) {
  auto a = make_api(false);
  auto got = call(a, "GET", "/openapi.json");
  CAF_REQUIRE(got.has_value());
  CAF_CHECK_EQUAL(got->status, 200);
  CAF_CHECK_EQUAL(got->content_type, "application/json");
  CAF_CHECK(got->body == openapi_document());
  auto wrong = call(a, "POST", "/openapi.json", "{}");
  CAF_REQUIRE(wrong.has_value());
  CAF_CHECK_EQUAL(wrong->status, 405);
}
