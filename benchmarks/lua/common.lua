-- Shared by every workload (the runner puts it in front of the workload's own script).
-- Each wrk thread keeps one connection, so a thread's requests and responses alternate and a
-- stateful workload knows which request a response answers. The runner sets BENCH_DATA to a
-- file of tab-separated lines (the workload's own data) and BENCH_OUT to where the summary goes.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

statuses = {}

function count(status)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function split(line)
  local fields = {}
  for field in string.gmatch(line, "([^\t]*)\t?") do
    table.insert(fields, field)
  end
  if fields[#fields] == "" then
    table.remove(fields)
  end
  return fields
end

function read_data()
  local rows = {}
  local path = os.getenv("BENCH_DATA")
  if path == nil or path == "" then
    return rows
  end
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(rows, split(line))
    end
  end
  return rows
end

function done(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    local counted = thread:get("statuses")
    for status, n in pairs(counted) do
      all[status] = (all[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(all) do
    table.insert(parts, string.format('"%s":%d', status, n))
  end
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), table.concat(parts, ",")))
  out:close()
end

-- BENCH_PACE_MS: each client waits this long between requests (the mixed workload's writers: a
-- steady stream of claims rather than as many as the server takes). Unset, wrk sends at once.
local pace = tonumber(os.getenv("BENCH_PACE_MS") or "0") or 0
if pace > 0 then
  function delay()
    return pace
  end
end
