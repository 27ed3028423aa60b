"""Correct S2S requests built by Python's own encoders: requests, urllib.parse.urlencode
(quote_plus), urllib.parse.urlencode(quote_via=quote), urllib.parse.quote per value."""
import sys, urllib.parse
import requests

base, ts = sys.argv[1], sys.argv[2]
for line in open(sys.argv[3], encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    ua, ip, gaid, ifa = (line.rstrip("\n").split("\t") + ["", "", ""])[:4]
    params = {"click_id": "c-1", "device_ip": ip, "device_ua": ua, "click_timestamp": ts}
    if gaid: params["google_aid"] = gaid
    if ifa: params["ios_ifa"] = ifa
    print("python requests\t" + requests.Request("GET", base, params=params).prepare().url)
    print("python urllib.parse.urlencode\t" + base + "?" + urllib.parse.urlencode(params))
    print("python urlencode(quote_via=quote)\t" + base + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
    print("python quote(safe='')\t" + base + "?" + "&".join(k + "=" + urllib.parse.quote(v, safe="") for k, v in params.items()))
