#!/usr/bin/env bash
# The seed-004 story from the CLI: load the demo data, find Karen, order 88000, pay, submit, show.
set -euo pipefail
cli=${CLI:-.venv/bin/continuity}
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
