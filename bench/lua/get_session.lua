-- GET /v1/sessions/{id} for a random id of the loaded set; every answer must be 200.
-- Arguments (after `--`): the file of ids (one a line), the secret API key.
-- Requests are formatted once in `init`, so that wrk spends its time sending, not
-- building strings. The nginx reference runs this same script (nginx ignores the
-- path and the key), so both sides see identical requests and identical wrk cost.

expected_status = 200
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")

local prepared = {}
local count = 0

function init(args)
  local ids_path, api_key = args[1], args[2]
  assert(ids_path and api_key, "usage: get_session.lua -- IDS_FILE API_KEY")
  seed_random()
  prepared = session_gets(ids_path, api_key)
  count = #prepared
end

function request()
  return prepared[math.random(count)]
end
