#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image from the zip
# (its default image: Ubuntu 22.04). It installs, from the image's own package archive and
# PyPI only (no PPA: the grading code runs on Python 3.10 and newer):
#   - the image's python3 (3.10 on Ubuntu 22.04) and python3-venv, and libseccomp2 for
#     the workers' seccomp filter;
#   - a virtual environment in /opt/autograder-venv (run_autograder uses its python) with
#     the zip's requirements.txt: what grading imports, nothing else. A line ending in
#     "# index: URL" comes from that package index (the homework's way to ask for a
#     library's CPU build, with no GPU download); then the rest from PyPI, with those held;
#   - the unprivileged user the sandbox workers run as.
set -euo pipefail

VENV=/opt/autograder-venv
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"  # /autograder/source
REQUIREMENTS="$SOURCE/requirements.txt"
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends python3 python3-venv libseccomp2 ca-certificates
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: the grading code needs Python 3.10 or newer; this image has $(python3 -V)" >&2
    exit 1
fi

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-cache-dir --upgrade pip
# First what comes from a package index of its own ("name==version  # index: URL").
OTHERS="$(mktemp)"
CONSTRAINTS="$(mktemp)"
INDEXED='^[[:space:]]*([^#[:space:]][^#]*[^#[:space:]])[[:space:]]*#[[:space:]]*index:[[:space:]]*([^[:space:]]+)'
while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ $INDEXED ]]; then
        "$VENV/bin/python" -m pip install --no-cache-dir --index-url "${BASH_REMATCH[2]}" \
            "${BASH_REMATCH[1]}"
        echo "${BASH_REMATCH[1]}" >> "$CONSTRAINTS"
    else
        echo "$line" >> "$OTHERS"
    fi
done < "$REQUIREMENTS"
# Everything else from PyPI, with those held at the builds just installed.
"$VENV/bin/python" -m pip install --no-cache-dir -r "$OTHERS" -c "$CONSTRAINTS"
rm -f "$OTHERS" "$CONSTRAINTS"

# The sandbox drops each worker to this user (autograder/sandbox/confine.py).
if ! id -u nobody >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin nobody
fi

"$VENV/bin/python" -c 'import sys; print("Python", sys.version.split()[0], "ready in '"$VENV"'")'
"$VENV/bin/python" -m pip list --format=freeze
