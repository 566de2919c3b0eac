#!/usr/bin/env sh
# The Python venv with the official MCP SDK (`mcp` from PyPI) that
# tests/mcp.rs drives `score mcp` with: a client nobody here wrote.
# Usage: tests/mcp/setup-venv.sh [DIR] (default: target/mcp-venv).
# Idempotent: an existing venv with the SDK is left as it is.
set -eu
cd "$(dirname "$0")/../.."
venv="${1:-${SCORE_MCP_VENV:-target/mcp-venv}}"
# The version the tests were written against (its API moved between majors).
sdk="mcp==2.3.0"
if "$venv/bin/python" -c "import mcp.client.stdio, mcp.client.streamable_http" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$sdk"
"$venv/bin/python" -c "import mcp.client.stdio, mcp.client.streamable_http"
