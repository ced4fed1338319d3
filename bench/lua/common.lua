-- Shared by the benchmark scripts: count answers by status, report once in `done`.
-- A script sets the global `expected_status`, then loads this file with dofile.
--
-- Each wrk thread runs its own Lua state; `setup` runs in the main state and keeps
-- the thread handles so that `done` can collect every thread's counters.

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_index", #threads)
end

ok_count = 0
bad_count = 0
bad_by_status = {}
first_bad_body = nil

function response(status, headers, body)
  if status == expected_status then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
    local key = tostring(status)
    bad_by_status[key] = (bad_by_status[key] or 0) + 1
    if first_bad_body == nil then
      first_bad_body = string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local ok, bad, by_status, sample = 0, 0, {}, nil
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("ok_count") or 0)
    bad = bad + (thread:get("bad_count") or 0)
    for status, count in pairs(thread:get("bad_by_status") or {}) do
      by_status[status] = (by_status[status] or 0) + count
    end
    sample = sample or thread:get("first_bad_body")
  end
  local pairs_text = {}
  for status, count in pairs(by_status) do
    pairs_text[#pairs_text + 1] = status .. ":" .. count
  end
  io.write(string.format("BENCH-STATUS expected=%d ok=%d bad=%d codes=%s\n",
    expected_status, ok, bad, table.concat(pairs_text, ",")))
  if sample then
    io.write("BENCH-SAMPLE " .. string.gsub(sample, "%s+", " ") .. "\n")
  end
end

-- Seed each thread differently so that threads do not replay the same sequence.
function seed_random()
  math.randomseed(os.time() * 1000 + (thread_index or 0) * 7919)
  for _ = 1, 10 do math.random() end
end

-- `GET /v1/sessions/{id}` with the key for every id in the file (one a line), formatted
-- once, so that wrk spends its time sending, not building strings.
function session_gets(ids_path, api_key)
  local prepared = {}
  for id in io.lines(ids_path) do
    if id ~= "" then
      prepared[#prepared + 1] = wrk.format("GET", "/v1/sessions/" .. id, { ["x-api-key"] = api_key })
    end
  end
  assert(#prepared > 0, "no session ids in " .. ids_path)
  return prepared
end
