-- Scenario 1, baseline: GET /health (the cost of HTTP alone). A static request, no response
-- hook: the cheapest thing wrk can do.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local bench = require("common")
bench.install("baseline")

wrk.method = "GET"
wrk.path = "/health"
