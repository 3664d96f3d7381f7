-- The write floor: one row inserted with the ORM and committed.
function request()
  return wrk.format("POST", "/bench/write", {["Content-Type"] = "text/plain"}, "a row")
end

function response(status, headers, body)
  count(status)
end
