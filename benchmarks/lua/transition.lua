-- Officers fire triggers through the API with If-Match, as the console's integrators do.
-- BENCH_DATA lines: "token", bearer; "regulation", id; "hot"|"cold", reference, version, state.
-- 30% of requests go to the few hot claims of the current second (every thread shares them),
-- so two officers often act on the same claim at once: one wins, the others get 412 or 409,
-- learn the claim's version and state from the answer, and carry on with what is now allowed.
-- The rest go to this thread's own cold claims, each moved along until officers can do no more.
local token
local regulations = {}
local hot = {}
local cold = {}
local next_cold = 1
local current
local started
local HOT_SET = 4

function init(args)
  for _, row in ipairs(read_data()) do
    if row[1] == "token" then
      token = row[2]
    elseif row[1] == "regulation" then
      table.insert(regulations, row[2])
    else
      local claim = {reference = row[2], version = tonumber(row[3]), state = row[4]}
      if row[1] == "hot" then
        table.insert(hot, claim)
      else
        table.insert(cold, claim)
      end
    end
  end
  -- This thread's share of the cold claims.
  local mine = {}
  for k, claim in ipairs(cold) do
    if (k - 1) % tonumber(os.getenv("BENCH_THREADS")) == thread_number - 1 then
      table.insert(mine, claim)
    end
  end
  cold = mine
  started = tonumber(os.getenv("BENCH_STARTED"))
  math.randomseed(thread_number * 7919)
end

local OPEN = {submitted = true, under_review = true, upheld = true}

local function body_for(claim)
  local s = claim.state
  if s == "submitted" then
    local regulation = regulations[math.random(#regulations)]
    return '{"trigger":"accept","category":"food_hygiene","regulation":' .. regulation .. '}'
  elseif s == "under_review" then
    local r = math.random()
    if r < 0.6 then
      return '{"trigger":"uphold","reasons":"The rule was applied more strictly than the law requires.","remedy":"waiver"}'
    elseif r < 0.85 then
      return '{"trigger":"not_uphold","reasons":"The rule protects people and applies to everyone.",' ..
        '"reason_code":"regulation_necessary_and_proportionate"}'
    end
    return '{"trigger":"request_information","question":"How many volunteers take part each week?"}'
  elseif s == "upheld" then
    return '{"trigger":"record_resolution","outcome":"waiver_granted","summary":"The council granted a waiver."}'
  end
  -- Officers can do nothing more here: an illegal trigger, refused with 409.
  return '{"trigger":"accept","category":"food_hygiene","regulation":' .. regulations[1] .. '}'
end

local function pick()
  if #hot > 0 and math.random() < 0.3 then
    local second = os.time() - started
    local base = (second * HOT_SET) % #hot
    return hot[base + math.random(HOT_SET)] or hot[1]
  end
  while next_cold <= #cold and not OPEN[cold[next_cold].state] do
    next_cold = next_cold + 1
  end
  if next_cold > #cold then
    next_cold = 1  -- every cold claim is finished: keep going with refusals
  end
  return cold[next_cold]
end

function request()
  current = pick()
  return wrk.format("POST", "/api/v1/claims/" .. current.reference .. "/transitions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["If-Match"] = '"v' .. current.version .. '"',
  }, body_for(current))
end

local FROM_TRIGGERS = {accept = "submitted", uphold = "under_review", record_resolution = "upheld"}

function response(status, headers, body)
  count(status)
  if current == nil then
    return
  end
  if status == 200 then
    current.state = string.match(body, '"state":%s*"([%w_]+)"') or current.state
    current.version = tonumber(string.match(body, '"version":%s*(%d+)')) or current.version
  elseif status == 412 then
    local etag = headers["ETag"] or headers["Etag"] or ""
    current.version = tonumber(string.match(etag, "v(%d+)")) or current.version
  elseif status == 409 then
    -- The answer lists what may be fired now; work out the state from it.
    local allowed = string.match(body, '"allowed_triggers":%s*%[(.-)%]') or ""
    local state = "finished"
    for trigger, from in pairs(FROM_TRIGGERS) do
      if string.find(allowed, '"' .. trigger .. '"', 1, true) then
        state = from
      end
    end
    current.state = state
  end
end
