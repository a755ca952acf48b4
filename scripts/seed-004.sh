#!/usr/bin/env bash
# The seed-004 story from the CLI: load the demo data, find Karen, order 88000, pay, submit, show.
# Then create the web users agent and manager and serve the web UI (set SEED_NO_SERVE=1 to stop before).
set -euo pipefail
cli=${CLI:-.venv/bin/continuity}
host=${HOST:-127.0.0.1}
port=${PORT:-8000}
agent_password=${AGENT_PASSWORD:-agent-pass-2026}
manager_password=${MANAGER_PASSWORD:-manager-pass-2026}
json_field() { .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)$1)"; }

$cli demo load
echo; echo "== customer service: search 'Karen'"
$cli customers search Karen
account=$($cli customers search Karen --json | json_field '[0]["account"]')
echo; echo "== new sales order for $account with item 88000"
sales_id=$($cli orders new --customer "$account" --item 88000 --json | json_field '["sales_id"]')
echo "sales order: $sales_id"
echo; echo "== payment: Visa 4111 1111 1111 1111 (tokenized; only the token is kept)"
$cli orders pay "$sales_id" --card 4111111111111111 --expiry 12/30 --json >/dev/null
echo; echo "== submit"
$cli orders submit "$sales_id"

echo; echo "== web users (demo passwords)"
printf '%s\n' "$agent_password" | $cli users add agent --role agent --password-stdin >/dev/null
printf '%s\n' "$manager_password" | $cli users add manager --role manager --password-stdin >/dev/null
echo "agent / $agent_password (agent), manager / $manager_password (manager)"
[ "${SEED_NO_SERVE:-}" = "1" ] && exit 0
echo
echo "Open http://$host:$port/ — log in as agent / $agent_password (or manager / $manager_password)"
echo "(Ctrl-C stops the server)"
exec $cli serve --host "$host" --port "$port"
