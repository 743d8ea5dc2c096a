-- wrk script: POST BASE/Appointment/$book, each request a Slot of its own (slot_ids.txt, taken
-- in turn across wrk's threads) for a Patient in turn (patient_ids.txt), channel app.
--   wrk -t2 ... -s book.lua http://127.0.0.1:PORT/fhir -- slot_ids.txt patient_ids.txt 2
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local function lines(file)
  local t = {}
  for line in io.lines(file) do
    if line ~= "" then t[#t + 1] = line end
  end
  return t
end

local slots, patients, path, threads
local n = 0
function init(args)
  slots = lines(args[1])
  patients = lines(args[2])
  threads = tonumber(args[3]) or 2
  path = wrk.path:gsub("/$", "") .. "/Appointment/$book"
  wrk.headers["Content-Type"] = "application/fhir+json"
  wrk.headers["Accept"] = "application/fhir+json"
end

function request()
  local i = n * threads + (tid or 0)
  n = n + 1
  local body = string.format(
    '{"resourceType":"Parameters","parameter":[{"name":"appointment-resource","resource":' ..
    '{"resourceType":"Appointment","status":"proposed","slot":[{"reference":"Slot/%s"}],' ..
    '"participant":[{"actor":{"reference":"Patient/%s"},"status":"needs-action"},' ..
    '{"actor":{"reference":"Practitioner/D2001"},"status":"needs-action"}]}},' ..
    '{"name":"channel","valueCode":"app"}]}',
    slots[(i % #slots) + 1], patients[(i % #patients) + 1])
  return wrk.format("POST", path, nil, body)
end
