#!/bin/sh
# Fails when api/openapi.yaml differs from what the server generates now.
# Regenerate with: cd server && ../.venv/bin/python manage.py spectacular --file ../api/openapi.yaml
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
(cd "$root/server" && "$python" manage.py spectacular --validate --fail-on-warn --file "$tmp")
if ! diff -u "$root/api/openapi.yaml" "$tmp"; then
    echo "api/openapi.yaml is stale: regenerate it (see the top of this script)." >&2
    exit 1
fi
echo "api/openapi.yaml is up to date."
