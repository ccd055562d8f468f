# Sourced by the scripts: create .venv and install the locked dependencies into it.
# $1: the lock file (requirements.lock or requirements-dev.lock).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "itop-intercom needs Python 3.11 or later ($python is $("$python" --version))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$1")-$(sha256sum "$1" pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "Installing dependencies from $1 ..." >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check uv
  # Bytecode now: where PYTHONDONTWRITEBYTECODE is set, every process (each worker of the test
  # suite, each command a test runs) would otherwise compile every module it imports again.
  .venv/bin/uv pip install -q --python .venv/bin/python --compile-bytecode -r "$1"
  .venv/bin/uv pip install -q --python .venv/bin/python --no-deps -e .
  touch "$stamp"
fi
