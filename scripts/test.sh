#!/usr/bin/env bash
# Set up (or reuse) .venv with the test extras, then lint and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
export MOT_CLI_MODELS="${MOT_CLI_MODELS:-$(cd .. && pwd)/shared/models}"
export MOT_CLI_OFFLINE="${MOT_CLI_OFFLINE:-1}"
.venv/bin/ruff check mot_cli tests bench
.venv/bin/python -m pytest -q "$@"
