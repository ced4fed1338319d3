-- GET a compatible API's session path for a random id of the loaded set; every answer 200.
-- Arguments (after `--`): the file of ids, the path before the id, the path after it,
-- the key's header name and its value (e.g. `authorization` `Bearer ss_sk_...`).
-- Requests are formatted once in `init`, as in get_session.lua.

expected_status = 200
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")

local prepared = {}
local count = 0

function init(args)
  local ids_path, before, after, header, value = args[1], args[2], args[3], args[4], args[5]
  assert(ids_path and before and after and header and value,
    "usage: compat_get.lua -- IDS_FILE PATH_BEFORE_ID PATH_AFTER_ID HEADER VALUE")
  seed_random()
  for id in io.lines(ids_path) do
    if id ~= "" then
      count = count + 1
      prepared[count] = wrk.format("GET", before .. id .. after, { [header] = value })
    end
  end
  assert(count > 0, "no session ids in " .. ids_path)
end

function request()
  return prepared[math.random(count)]
end
