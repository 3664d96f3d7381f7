-- GET one of the data's paths in turn, each with its headers: columns path, then name=value pairs.
local rows
local i = 0

function init(args)
  rows = read_data()
  i = thread_number
end

function request()
  i = i + 1
  local row = rows[(i % #rows) + 1]
  local headers = {}
  for k = 2, #row do
    local name, value = string.match(row[k], "^([^=]+)=(.*)$")
    headers[name] = value
  end
  return wrk.format("GET", row[1], headers)
end

function response(status, headers, body)
  count(status)
end
