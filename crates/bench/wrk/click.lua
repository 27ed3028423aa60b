-- wrk script: realistic S2S clicks, each with its own click_id, a varied device_ip, one of two
-- real mobile UAs (percent-encoded) and a current click_timestamp.
local uas = {
  "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.6099.144%20Mobile%20Safari%2F537.36",
  "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_1%20like%20Mac%20OS%20X)%20AppleWebKit%2F605.1.15%20(KHTML%2C%20like%20Gecko)%20Version%2F17.1%20Mobile%2F15E148%20Safari%2F604.1",
}
local i = 0
local thread_tag = ""

-- Click ids must never repeat, or the mock measures its click-id-duplicate path: each wrk
-- thread gets a number here (setup runs in the main state), and the start time tells runs apart.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

init = function(args)
  thread_tag = string.format("%d.%d", os.time(), thread_number or 0)
end

request = function()
  i = i + 1
  local path = string.format(
    "/serve/1234567890123456789?click_id=w%s-%d&device_ip=5.%d.%d.%d&device_ua=%s&click_timestamp=%d",
    thread_tag, i, i % 200 + 1, math.floor(i / 200) % 250, i % 250 + 1, uas[i % 2 + 1], os.time() - 2)
  return wrk.format("GET", path)
end
