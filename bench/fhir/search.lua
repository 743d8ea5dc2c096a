-- wrk script: GET BASE/Slot?schedule=Schedule/<id>&start=ge<day>T<hour>:00:00+08:00&status=free
-- (the issue's query: free slots of one schedule from a time on), rotating over the 7 days x
-- 24 hours of the seeded week; each answer is one page of the default size (20).
--   wrk ... -s search.lua http://127.0.0.1:PORT/fhir -- SCHEDULE_ID
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local paths = {}
local n, i = 0, 0
function init(args)
  local base = wrk.path:gsub("/$", "")
  for day = 2, 8 do
    for hour = 0, 23 do
      n = n + 1
      paths[n] = string.format(
        "%s/Slot?schedule=Schedule/%s&start=ge2026-12-%02dT%02d:00:00%%2B08:00&status=free",
        base, args[1], day, hour)
    end
  end
  i = ((tid or 0) * 37) % n
  wrk.headers["Accept"] = "application/fhir+json"
end

function request()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
