-- SHA-256 (FIPS 180-4) on LuaJIT's bit library, for signing requests inside wrk.
-- The round constants are derived here from the primes, as the standard defines them,
-- rather than typed in. Returns `sha256_hex(text)`: the lowercase hex digest.

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex

local function first_primes(count)
  local found, candidate = {}, 2
  while #found < count do
    local prime = true
    for _, p in ipairs(found) do
      if p * p > candidate then break end
      if candidate % p == 0 then prime = false; break end
    end
    if prime then found[#found + 1] = candidate end
    candidate = candidate + 1
  end
  return found
end

-- The first 32 bits of the fractional part of x.
local function fraction_bits(x)
  return tobit(math.floor((x - math.floor(x)) * 4294967296))
end

local PRIMES = first_primes(64)
local K, H = {}, {}
for i = 1, 64 do K[i] = fraction_bits(PRIMES[i] ^ (1 / 3)) end
for i = 1, 8 do H[i] = fraction_bits(math.sqrt(PRIMES[i])) end

local function padded(text)
  local length = #text
  local zeros = (55 - length) % 64
  local bits = length * 8
  return text .. "\128" .. string.rep("\0", zeros) .. "\0\0\0\0" .. string.char(
    band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
    band(rshift(bits, 8), 255), band(bits, 255))
end

local function compress(state, text, offset, w)
  for i = 0, 15 do
    local a, b, c, d = string.byte(text, offset + i * 4, offset + i * 4 + 3)
    w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
  end
  for i = 16, 63 do
    local x, y = w[i - 15], w[i - 2]
    local s0 = bxor(ror(x, 7), ror(x, 18), rshift(x, 3))
    local s1 = bxor(ror(y, 17), ror(y, 19), rshift(y, 10))
    w[i] = tobit(w[i - 16] + s0 + w[i - 7] + s1)
  end
  local a, b, c, d, e, f, g, h =
    state[1], state[2], state[3], state[4], state[5], state[6], state[7], state[8]
  for i = 0, 63 do
    local sum1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
    local choose = bxor(band(e, f), band(bnot(e), g))
    local t1 = h + sum1 + choose + K[i + 1] + w[i]
    local sum0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
    local majority = bxor(band(a, b), band(a, c), band(b, c))
    h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + sum0 + majority)
  end
  state[1], state[2], state[3], state[4] =
    tobit(state[1] + a), tobit(state[2] + b), tobit(state[3] + c), tobit(state[4] + d)
  state[5], state[6], state[7], state[8] =
    tobit(state[5] + e), tobit(state[6] + f), tobit(state[7] + g), tobit(state[8] + h)
end

function sha256_hex(text)
  local message = padded(text)
  local state = { H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8] }
  local w = {}
  for offset = 1, #message, 64 do compress(state, message, offset, w) end
  local out = {}
  for i = 1, 8 do out[i] = tohex(state[i]) end
  return table.concat(out)
end
