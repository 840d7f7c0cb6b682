#!/usr/bin/env bash
# Set everything up and run the whole test suite: the README's second command (`make test`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh test

# The report's browser test needs Debian's chromium; install it when we can (root, apt).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing chromium for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "warning: could not install chromium; the browser test will skip" >&2
fi

# The Spark engine's test needs a Java runtime (17+ for pyspark 4); Debian's, when missing.
if ! command -v java >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing openjdk-17-jre-headless for the Spark test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        openjdk-17-jre-headless >/dev/null) \
        || echo "warning: could not install Java; the Spark test will skip" >&2
fi

# The live-loop tests start a real PostgreSQL server (tests/pg.py): Debian's postgresql package.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing postgresql for the live-loop tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
        || echo "warning: could not install postgresql; the live-loop tests on PostgreSQL will fail" >&2
fi

set +e
.venv/bin/python -m pytest --durations=20 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "error: pytest collected no tests: the test setup is broken." >&2
    exit 1
fi
exit "$status"
