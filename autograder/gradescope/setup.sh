#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image from the zip
# (its default image: Ubuntu 22.04, whose python3 is 3.10). It installs:
#   - Python 3.11 from the deadsnakes PPA beside the system python3, which stays as it is;
#   - a virtual environment in /opt/autograder-venv (run_autograder uses its python) with
#     the CPU build of the pinned torch from PyTorch's CPU wheel index (no CUDA download),
#     then the rest of requirements.txt from PyPI;
#   - the unprivileged user the sandbox workers run as.
set -euo pipefail

PY_VERSION=3.11
VENV=/opt/autograder-venv
TORCH=torch==2.13.0  # keep in step with requirements.txt
TORCH_INDEX=https://download.pytorch.org/whl/cpu
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"  # /autograder/source
export DEBIAN_FRONTEND=noninteractive

apt-get update
if ! command -v "python$PY_VERSION" >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends software-properties-common gpg-agent ca-certificates
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
fi
apt-get install -y --no-install-recommends "python$PY_VERSION" "python$PY_VERSION-venv"

"python$PY_VERSION" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
"$VENV/bin/python" -m pip install --no-cache-dir --index-url "$TORCH_INDEX" "$TORCH"

# Everything else from PyPI, with torch held at the CPU build just installed.
REQUIREMENTS="$(mktemp)"
CONSTRAINTS="$(mktemp)"
grep -Ev '^[[:space:]]*torch([<>=!~ ;[]|$)' "$SOURCE/requirements.txt" > "$REQUIREMENTS"
"$VENV/bin/python" -c 'import torch; print(f"torch=={torch.__version__}")' > "$CONSTRAINTS"
"$VENV/bin/python" -m pip install --no-cache-dir -r "$REQUIREMENTS" -c "$CONSTRAINTS"
rm -f "$REQUIREMENTS" "$CONSTRAINTS"

# The sandbox drops each worker to this user (autograder/sandbox/confine.py).
if ! id -u nobody >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin nobody
fi

"$VENV/bin/python" -c 'import torch; print("torch", torch.__version__, "ready in '"$VENV"'")'
