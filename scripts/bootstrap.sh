#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment from the pinned constraints.
#   scripts/bootstrap.sh          runtime dependencies
#   scripts/bootstrap.sh test     runtime + test dependencies
# Needs only Python 3.11+; re-running is cheap: it reinstalls only when the pins change.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
extras=""
[ "${1:-}" = "test" ] && extras="[test]"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: leadscore needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and re-run." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "creating .venv"
    "$python" -m venv .venv
fi

stamp=".venv/.leadscore-installed${extras:+-test}"
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi

echo "installing leadscore${extras} with pinned versions (constraints.txt)"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".${extras}"
echo "$want" > "$stamp"
