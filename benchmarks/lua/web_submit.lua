-- Send the last page of the claim form, as a browser does: the draft's cookie and the session
-- cookie, the CSRF token and the page's answers. The whole claim is checked by the API's rules
-- and the answers are saved in the browser's draft (filing itself is api_submit's path).
-- BENCH_DATA lines: cookie, the page's path, then the form body.
local session

function init(args)
  local rows = read_data()
  session = rows[(thread_number - 1) % #rows + 1]
end

function request()
  return wrk.format("POST", session[2], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = session[1],
    ["Sec-Fetch-Site"] = "same-origin",
    ["Origin"] = "http://127.0.0.1",
  }, session[3])
end

function response(status, headers, body)
  count(status)
end
