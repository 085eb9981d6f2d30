-- Scenario 4: GET /api/v1/orders/{id} for random orders created by scenario 2 (ids in
-- BENCH_IDS). No response hook: non-2xx answers show in wrk's status error count.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local bench = require("common")
bench.install("reads")

local paths = {}

function init(args)
  bench.seed()
  for i, id in ipairs(bench.read_ids()) do
    paths[i] = "/api/v1/orders/" .. id
  end
  if #paths == 0 then paths[1] = "/api/v1/orders/no-orders-were-created" end
end

function request()
  return wrk.format("GET", paths[math.random(1, #paths)])
end
