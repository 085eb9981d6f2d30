-- Shared by the wrk scripts of the benchmark harness (bench/run.sh).
--
-- wrk runs every script in several Lua states: one per load thread (init/request/response) and
-- the main one (setup/done). Each thread counts into its own global `bench_counts`; done()
-- merges them through thread:get and writes one JSON object with the scenario's figures to the
-- file named by BENCH_RESULT (stdout when unset).
local M = {}

bench_counts = {}
local threads = {}

function M.count(key, n)
  bench_counts[key] = (bench_counts[key] or 0) + (n or 1)
end

-- Counts a response by status code ("s201", "s409", ...).
function M.count_status(status)
  local key = "s" .. status
  bench_counts[key] = (bench_counts[key] or 0) + 1
end

-- SKU names of the catalogue loaded by bench/tools/benchtool.py (same format).
function M.sku(i)
  return string.format("BENCH-%05d", i)
end

function M.sku_count()
  return tonumber(os.getenv("BENCH_SKUS") or "1000")
end

-- Reads the order ids collected by the create scenario, one per line.
function M.read_ids()
  local ids = {}
  local path = os.getenv("BENCH_IDS")
  local f = path and io.open(path, "r")
  if f then
    for line in f:lines() do
      if #line > 0 then ids[#ids + 1] = line end
    end
    f:close()
  end
  return ids
end

-- The body of a new order: 1-3 distinct lines over the whole catalogue, quantity 1-3.
function M.order_body(nskus)
  local n = math.random(1, 3)
  local lines, used = {}, {}
  while #lines < n do
    local i = math.random(0, nskus - 1)
    if not used[i] then
      used[i] = true
      lines[#lines + 1] = string.format('{"sku":"%s","quantity":%d}', M.sku(i), math.random(1, 3))
    end
  end
  return string.format('{"customer_id":"bench-%d","customer_email":"bench@example.com",' ..
                       '"items":[%s]}', math.random(1, 10000), table.concat(lines, ","))
end

M.json_headers = {["Content-Type"] = "application/json"}

-- Extracts the order id from a 201 response body.
function M.order_id(body)
  return body:match('"id"%s*:%s*"([^"]+)"')
end

local function encode(v)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == math.floor(v) and math.abs(v) < 2^53 then return string.format("%d", v) end
    return string.format("%.6g", v)
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = encode(tostring(k)) .. ": " .. encode(x) end
    table.sort(parts)
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return "null"
end

-- Installs setup() and done() for scenario `name`.
function M.install(name)
  setup = function(thread)
    threads[#threads + 1] = thread
    thread:set("bench_thread", #threads)
  end

  done = function(summary, latency, requests)
    local counts = {}
    for _, thread in ipairs(threads) do
      local c = thread:get("bench_counts") or {}
      for k, n in pairs(c) do counts[k] = (counts[k] or 0) + n end
    end
    local seconds = summary.duration / 1e6
    local ms = function(p) return latency:percentile(p) / 1000 end
    local e = summary.errors
    local result = {
      scenario = name,
      seconds = seconds,
      requests = summary.requests,
      bytes = summary.bytes,
      rps = summary.requests / seconds,
      latency_ms = {p50 = ms(50), p90 = ms(90), p99 = ms(99), p999 = ms(99.9),
                    max = latency.max / 1000, mean = latency.mean / 1000},
      -- status: responses with a status >= 400; the others are socket-level failures.
      errors = {status = e.status, connect = e.connect, read = e.read, write = e.write,
                timeout = e.timeout},
      counts = counts,
    }
    local out = os.getenv("BENCH_RESULT")
    local f = out and io.open(out, "w") or io.stdout
    f:write(encode(result), "\n")
    if f ~= io.stdout then f:close() end
  end
end

-- Seeds math.random differently in every thread and run.
function M.seed()
  math.randomseed(os.time() * 1000 + (bench_thread or 0) * 7919 + math.floor(os.clock() * 1e6))
  for _ = 1, 10 do math.random() end
end

return M
