-- GET a Zephr session path for a random loaded id, signed per request with ZephrHmacHttp
-- (a fresh nonce each time, as a real client must); every answer must be 200.
-- Arguments (after `--`): the file of ids, the path before the id, access key, secret key.

expected_status = 200
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")
dofile(here .. "sha256.lua")

local ids = {}
local count = 0
local access_key, secret_key, before
local run_tag
local sent = 0

function init(args)
  local ids_path
  ids_path, before, access_key, secret_key = args[1], args[2], args[3], args[4]
  assert(ids_path and before and access_key and secret_key,
    "usage: zephr_get.lua -- IDS_FILE PATH_BEFORE_ID ACCESS_KEY SECRET_KEY")
  seed_random()
  -- Nonces must differ between threads and between runs (warm-up, measured run).
  run_tag = string.format("%x%x%x", os.time(), thread_index or 0, math.random(0, 2147483646))
  for id in io.lines(ids_path) do
    if id ~= "" then
      count = count + 1
      ids[count] = id
    end
  end
  assert(count > 0, "no session ids in " .. ids_path)
end

function request()
  sent = sent + 1
  local path = before .. ids[math.random(count)]
  local timestamp = string.format("%d000", os.time())
  local nonce = run_tag .. "-" .. sent
  local hash = sha256_hex(secret_key .. path .. "GET" .. timestamp .. nonce)
  local header = "ZEPHR-HMAC-SHA256 " .. access_key .. ":" .. timestamp .. ":" .. nonce .. ":" .. hash
  return wrk.format("GET", path, { ["authorization"] = header })
end
