// Correct S2S requests built by JavaScript's own encoders: encodeURIComponent per value,
// URLSearchParams, and the URL class's searchParams.
const fs = require("fs");
const [base, ts, devices] = process.argv.slice(2);
for (const line of fs.readFileSync(devices, "utf8").split("\n")) {
  if (line.startsWith("#") || !line.trim()) continue;
  const [ua, ip, gaid, ifa] = line.split("\t");
  const params = [["click_id", "c-1"], ["device_ip", ip], ["device_ua", ua], ["click_timestamp", ts]];
  if (gaid) params.push(["google_aid", gaid]);
  if (ifa) params.push(["ios_ifa", ifa]);
  console.log("javascript encodeURIComponent\t" + base + "?" + params.map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&"));
  console.log("javascript URLSearchParams\t" + base + "?" + new URLSearchParams(params).toString());
  const u = new URL(base);
  for (const [k, v] of params) u.searchParams.append(k, v);
  console.log("javascript URL.searchParams\t" + u.toString());
}
