-- Scenario 2: POST /api/v1/orders, 1-3 lines over the whole catalogue (BENCH_SKUS SKUs).
-- Writes the id of every created order to BENCH_IDS_OUT.<thread> for the read scenarios.
package.path = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "?.lua;" .. package.path
local bench = require("common")
bench.install("create")

local nskus, ids_file, pending = 0, nil, 0

function init(args)
  bench.seed()
  nskus = bench.sku_count()
  local out = os.getenv("BENCH_IDS_OUT")
  if out then ids_file = io.open(out .. "." .. (bench_thread or 1), "a") end
end

function request()
  return wrk.format("POST", "/api/v1/orders", bench.json_headers, bench.order_body(nskus))
end

function response(status, headers, body)
  bench.count_status(status)
  if status == 201 and ids_file then
    local id = bench.order_id(body)
    if id then
      ids_file:write(id, "\n")
      pending = pending + 1
      if pending >= 1024 then ids_file:flush(); pending = 0 end
    end
  end
end
