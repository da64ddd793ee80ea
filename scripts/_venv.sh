# Shared by scripts/run and scripts/test: make .venv with Python >= 3.11 and install Spyglass into it.
# Usage: . scripts/_venv.sh [extra]   (extra: "dev" installs the test tools too)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
py=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    py=$candidate; break
  fi
done
if [ -z "$py" ]; then
  echo "Spyglass needs Python 3.11 or newer on PATH" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
# The server alone to run it; with "dev", the SDK (./sdk, the spyglass-sdk distribution) too,
# given in the same pip command as the server's extras that require it: pip then takes the
# local project for spyglass-sdk and never looks the name up on PyPI, where it belongs to
# another project.
specs=(-e .)
if [ "${1:-}" = "dev" ]; then specs=(-e ./sdk -e ".[dev]"); fi
# Reinstall only when a pyproject.toml changed since the last install.
stamp=".venv/.installed-${1:-run}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ sdk/pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${specs[@]}"
  touch "$stamp"
fi
