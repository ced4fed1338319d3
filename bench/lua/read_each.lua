-- GET /v1/sessions/{id} for every id of the loaded set in order, then from the start
-- again until the run's time is up; every answer must be 200.
-- Arguments (after `--`): the file of ids (one a line), the secret API key.
-- The warm pass before the GET measurements: it leaves every loaded session in the
-- server's read cache, so that the measured run sees the server's steady state rather
-- than the first read of each session (which goes to SQLite). The runner checks that
-- at least as many answers came back as there are ids.

expected_status = 200
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")

local prepared = {}
local count = 0
local next_index = 0

function init(args)
  local ids_path, api_key = args[1], args[2]
  assert(ids_path and api_key, "usage: read_each.lua -- IDS_FILE API_KEY")
  prepared = session_gets(ids_path, api_key)
  count = #prepared
end

function request()
  next_index = next_index % count + 1
  return prepared[next_index]
end
