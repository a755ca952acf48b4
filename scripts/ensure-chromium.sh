#!/usr/bin/env bash
# The browser tests' Chromium, installed by `make test` when the machine lacks it (issue 18 item 17):
# 1. CONTINUITY_CHROMIUM names one: it must exist;
# 2. a `chromium` on the PATH (Debian's /usr/bin/chromium) is used as it is;
# 3. as root with apt-get: Debian's chromium package is installed;
# 4. otherwise Playwright's own browser is installed (`playwright install chromium`), where the machine allows it.
set -euo pipefail
PYTHON=${1:-.venv/bin/python}

if [[ -n "${CONTINUITY_CHROMIUM:-}" ]]; then
  [[ -x "$CONTINUITY_CHROMIUM" ]] || { echo "CONTINUITY_CHROMIUM=$CONTINUITY_CHROMIUM is not an executable file" >&2; exit 1; }
  exit 0
fi
command -v chromium >/dev/null && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "Chromium is missing: installing Debian's chromium package (about a minute)"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
  exit 0
fi
echo "Chromium is missing and apt-get is not usable here: installing Playwright's own Chromium"
"$PYTHON" -m playwright install chromium
