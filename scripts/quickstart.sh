#!/usr/bin/env bash
# Set up (or reuse) .venv and track the sample video; prints where the tracks and caches went.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
# Weights are looked for in $MOT_CLI_MODELS, then ~/.cache/mot-cli/models, then downloaded.
if [ -z "${MOT_CLI_MODELS:-}" ] && [ -d ../shared/models ]; then
  export MOT_CLI_MODELS="$(cd ../shared/models && pwd)"
fi
.venv/bin/mot-cli track sample_videos/vtest_first80.mp4 "$@"
