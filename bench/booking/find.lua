-- wrk script: POST BASE/Appointment/$find for one day of the seeded week in turn (window.txt
-- holds the first day's 08:00 +08:00), channel app, the first 20 offers.
--   wrk ... -s find.lua http://127.0.0.1:PORT/fhir -- window.txt
local days = {}
local path
local n = 0
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local first = f:read("*l")
  f:close()
  local y, m, d = first:match("^(%d+)-(%d+)-(%d+)")
  for k = 0, 6 do
    local t = os.time({year = tonumber(y), month = tonumber(m), day = tonumber(d) + k, hour = 12})
    days[#days + 1] = os.date("!%Y-%m-%d", t)
  end
  path = wrk.path:gsub("/$", "") .. "/Appointment/$find"
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Accept"] = "application/fhir+json"
end

function request()
  n = n + 1
  local day = days[(n % #days) + 1]
  local body = string.format(
    '{"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"%s"},' ..
    '{"name":"end","valueDateTime":"%sT23:59:59+08:00"},{"name":"channel","valueCode":"app"},' ..
    '{"name":"_count","valueInteger":20}]}', day, day)
  return wrk.format("POST", path, nil, body)
end
