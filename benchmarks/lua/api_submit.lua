-- File a claim through the API, as an integrator does: JSON, and an Idempotency-Key of its own.
-- BENCH_DATA's one line holds the body with @N@ where each request puts its own number.
local template
local n = 0
local run = os.getenv("BENCH_RUN") or "0"

function init(args)
  template = read_data()[1][1]
end

function request()
  n = n + 1
  local key = string.format("bench-%s-%d-%d", run, thread_number, n)
  local body = string.gsub(template, "@N@", thread_number .. "-" .. n)
  return wrk.format("POST", "/api/v1/claims", {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, body)
end

function response(status, headers, body)
  count(status)
end
