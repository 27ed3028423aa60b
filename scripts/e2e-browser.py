#!/usr/bin/env python3
"""Opens a conformance HTML report built from hostile input in headless Chromium and checks
that nothing injected ran or became markup.

usage: scripts/e2e-browser.py BINARY   (from the workspace root; `just e2e-browser`)

The report comes from fixtures/suites/hostile.toml run against the correct example partner.
Chromium loads it twice: as written, and with its Content-Security-Policy removed, so the
check proves the escaping itself and not only the CSP. Each time the DOM after load
(--dump-dom) must carry no element the payload could have made, no mark a payload script
would have set, and the payload as visible text.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--virtual-time-budget=3000",
]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("e2e-browser: no chromium on PATH (Debian: apt-get install chromium)")


def dump_dom(browser, page, profile):
    """The DOM after load, or None when the page never finished (a modal alert blocks it)."""
    try:
        out = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
            capture_output=True, timeout=45, check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if out.returncode != 0 or not out.stdout:
        sys.exit(f"e2e-browser: chromium failed ({out.returncode}): {out.stderr.decode(errors='replace')[-2000:]}")
    return out.stdout.decode("utf-8", errors="replace")


def check(dom, label):
    problems = []
    if dom is None:
        print(f"FAIL [{label}] the page never finished loading (an injected alert() dialog?)")
        return False
    if re.search(r"<html[^>]*\sdata-pwned=", dom, re.I):
        problems.append("an injected script or handler ran (data-pwned is set on <html>)")
    if re.search(r"<script", dom, re.I):
        problems.append("a <script> element is in the DOM")
    if re.search(r"<img", dom, re.I):
        problems.append("an <img> element (the onerror payload) is in the DOM")
    if re.search(r"<b>bold", dom, re.I):
        problems.append("the <b> of a title became markup")
    if "\x1b" in dom or "\x00" in dom:
        problems.append("a raw ESC or NUL reached the page")
    if "&lt;script&gt;alert(1)&lt;/script&gt;" not in dom:
        problems.append("the hostile User-Agent is not shown as text")
    for p in problems:
        print(f"FAIL [{label}] {p}")
    if not problems:
        print(f"ok   [{label}] no injected markup, no script ran, the payload shows as text")
    return not problems


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = pathlib.Path(sys.argv[1]).resolve()
    root = pathlib.Path(__file__).resolve().parent.parent
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="metrica-s2s-e2e-") as tmp:
        tmp = pathlib.Path(tmp)
        report = tmp / "report.html"
        run = subprocess.run(
            [binary, "conform", "--partner", root / "fixtures/partners/correct.toml",
             "--suite", root / "fixtures/suites/hostile.toml", "--report", f"html={report}"],
            capture_output=True, timeout=120, check=False, cwd=root,
        )
        # The hostile scenario fails its checks (exit 1); 2 means the run itself broke.
        if run.returncode not in (0, 1) or not report.exists():
            sys.exit(f"e2e-browser: conform exited {run.returncode}: {run.stderr.decode(errors='replace')}")
        html = report.read_text(encoding="utf-8")
        no_csp = tmp / "report-without-csp.html"
        stripped = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", html)
        if stripped == html:
            sys.exit("e2e-browser: the report has no CSP meta to remove; update this check")
        no_csp.write_text(stripped, encoding="utf-8")
        ok = True
        for page, label in ((report, "as written"), (no_csp, "CSP removed")):
            ok &= check(dump_dom(browser, page, tmp / f"profile-{page.stem}"), label)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
