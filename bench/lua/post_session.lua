-- POST /v1/sessions with a JSON body; every answer must be 201.
-- Arguments (after `--`): a file of JSON bodies (one a line) holding the marker
-- __IP__, and the secret API key. Each request takes a random body and a fresh
-- random IP address (mostly IPv4, some IPv6).

expected_status = 201
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")

local bodies = {}
local count = 0
local headers_key = nil
-- First octets of address blocks that ISPs and mobile carriers announce.
local first_octets = { 2, 5, 24, 31, 37, 46, 62, 66, 71, 77, 78, 81, 82, 86, 88, 89, 90,
  91, 92, 93, 94, 95, 98, 104, 109, 151, 176, 178, 185, 188, 193, 195, 197, 201, 213, 217 }

function init(args)
  local bodies_path = args[1]
  headers_key = args[2]
  assert(bodies_path and headers_key, "usage: post_session.lua -- BODIES_FILE API_KEY")
  seed_random()
  for line in io.lines(bodies_path) do
    if line ~= "" then
      count = count + 1
      bodies[count] = line
    end
  end
  assert(count > 0, "no bodies in " .. bodies_path)
end

local function random_ip()
  if math.random(10) == 1 then
    return string.format("2a02:%x:%x:%x::%x", math.random(0, 65535), math.random(0, 65535),
      math.random(0, 65535), math.random(1, 65535))
  end
  return string.format("%d.%d.%d.%d", first_octets[math.random(#first_octets)],
    math.random(0, 255), math.random(0, 255), math.random(1, 254))
end

function request()
  local body = string.gsub(bodies[math.random(count)], "__IP__", random_ip(), 1)
  return wrk.format("POST", "/v1/sessions",
    { ["x-api-key"] = headers_key, ["content-type"] = "application/json" }, body)
end
