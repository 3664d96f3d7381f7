-- Send the checked claim form, as a browser does: the session cookie, the CSRF token and every
-- answer in the check page's hidden fields, with a fresh submission key each time.
-- BENCH_DATA lines: cookie, then the form body with @KEY@ for the submission key.
local session
local n = 0
local run = os.getenv("BENCH_RUN") or "0"

function init(args)
  local rows = read_data()
  session = rows[(thread_number - 1) % #rows + 1]
end

function request()
  n = n + 1
  local key = string.format("bench%s-%d-%d", run, thread_number, n)
  local body = string.gsub(session[2], "@KEY@", key)
  return wrk.format("POST", "/claims/new/submit", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = session[1],
    ["Sec-Fetch-Site"] = "same-origin",
    ["Origin"] = "http://127.0.0.1",
  }, body)
end

function response(status, headers, body)
  count(status)
end
