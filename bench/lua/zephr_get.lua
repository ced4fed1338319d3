-- GET a Zephr session path for a random loaded id, signed with ZephrHmacHttp and a fresh
-- nonce per request, as a real client must; every answer must be 200.
-- Arguments (after `--`): the file of ids, the path before the id, access key, secret key,
-- then optionally a file of requests the runner signed ahead (a line each: path, tab,
-- Authorization) and wrk's thread count. Thread i of n sends lines i, i+n, i+2n, ..., so
-- no two threads send one nonce; once its lines are used up, a thread signs in Lua.

expected_status = 200
local here = string.match(debug.getinfo(1, "S").source, "^@(.*/)") or "./"
dofile(here .. "common.lua")
dofile(here .. "sha256.lua")

local ids = {}
local count = 0
local access_key, secret_key, before
local run_tag
local sent = 0
local signed = {}
local signed_count = 0

local function load_signed(path, threads)
  local mine = (thread_index or 1) - 1
  local line_number = 0
  for line in io.lines(path) do
    if line_number % threads == mine then
      local request_path, header = string.match(line, "^([^\t]+)\t(.+)$")
      signed_count = signed_count + 1
      signed[signed_count] = wrk.format("GET", request_path, { ["authorization"] = header })
    end
    line_number = line_number + 1
  end
end

function init(args)
  local ids_path, signed_path, threads
  ids_path, before, access_key, secret_key, signed_path, threads =
    args[1], args[2], args[3], args[4], args[5], args[6]
  assert(ids_path and before and access_key and secret_key,
    "usage: zephr_get.lua -- IDS_FILE PATH_BEFORE_ID ACCESS_KEY SECRET_KEY [SIGNED_FILE THREADS]")
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
  if signed_path then
    load_signed(signed_path, tonumber(threads) or 1)
  end
end

local function signed_here()
  local path = before .. ids[math.random(count)]
  local timestamp = string.format("%d000", os.time())
  local nonce = run_tag .. "-" .. sent
  local hash = sha256_hex(secret_key .. path .. "GET" .. timestamp .. nonce)
  local header = "ZEPHR-HMAC-SHA256 " .. access_key .. ":" .. timestamp .. ":" .. nonce .. ":" .. hash
  return wrk.format("GET", path, { ["authorization"] = header })
end

function request()
  sent = sent + 1
  if sent <= signed_count then
    return signed[sent]
  end
  return signed_here()
end
