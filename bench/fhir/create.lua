-- wrk script: POST BASE/Appointment with the body file given after `--` (create_body.json from
-- seed.py); the identifier value "APT-20250314-000123" and the Slot reference are replaced per
-- request by values unique to this thread and request.
--   wrk ... -s create.lua http://127.0.0.1:PORT/fhir -- create_body.json
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local before, after
local n = 0
local path
local run -- seconds since the epoch at init: a second run names Slots the first did not book
function init(args)
  local f = assert(io.open(args[1], "rb"))
  local body = f:read("*a")
  f:close()
  local s, e = body:find("APT-20250314-000123", 1, true)
  assert(s, "identifier value not found in " .. args[1])
  before, after = body:sub(1, s - 1), body:sub(e + 1)
  path = wrk.path:gsub("/$", "") .. "/Appointment"
  run = os.time()
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Accept"] = "application/fhir+json"
  wrk.headers["Prefer"] = "return=minimal"
end

function request()
  n = n + 1
  local body = before .. string.format("APT-BENCH-%d-%d-%09d", run, tid or 0, n) .. after
  -- A booked Appointment holds its Slot: each create names a Slot of its own, or every one
  -- after the first would be refused (409, no Slot booked twice).
  body = body:gsub("Slot/neph%-20250314%-0930", string.format("Slot/bench-%d-%d-%09d", run, tid or 0, n), 1)
  return wrk.format("POST", path, nil, body)
end
