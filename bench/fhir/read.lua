-- wrk script: GET BASE/Appointment/<id>, rotating over the ids in the file given after `--`
-- (one a line, written by seed.py). Each wrk thread starts at its own offset.
--   wrk -t2 -c32 -d10s --latency -s read.lua http://127.0.0.1:PORT/fhir -- appointment_ids.txt
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local paths = {}
local n, i = 0, 0
function init(args)
  local base = wrk.path:gsub("/$", "")
  for line in io.lines(args[1]) do
    if line ~= "" then
      n = n + 1
      paths[n] = base .. "/Appointment/" .. line
    end
  end
  assert(n > 0, "no ids in " .. args[1])
  i = ((tid or 0) * 7919) % n
  wrk.headers["Accept"] = "application/fhir+json"
end

function request()
  i = i % n + 1
  return wrk.format("GET", paths[i])
end
