# Shared set-up for scripts/demo and scripts/test: a Python 3.11+ virtual environment in
# .venv with stridewatch installed in editable mode. Sourced, not run.

PYTHON=${PYTHON:-python3}

die() { echo "stridewatch: $*" >&2; exit 1; }

# Install Debian packages when missing: as root with apt-get, otherwise stop with one line.
ensure_debian_packages() {
    local missing=() pkg
    command -v dpkg-query >/dev/null 2>&1 || return 0
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing system packages: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
            || die "could not install system packages: ${missing[*]}"
    else
        die "needs system packages: ${missing[*]} (sudo apt-get install ${missing[*]})"
    fi
}

# Create .venv and install the project (with extras "$1", if given) when pyproject changed.
ensure_venv() {
    local extras=${1:-} spec=. stamp
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
        || die "needs Python 3.11 or newer as $PYTHON (set PYTHON=python3.12 to choose one)"
    if [ ! -x .venv/bin/python ]; then
        "$PYTHON" -m venv .venv 2>/dev/null || {
            ensure_debian_packages python3-venv
            rm -rf .venv
            "$PYTHON" -m venv .venv || die "could not create a virtual environment in .venv"
        }
    fi
    [ -n "$extras" ] && spec=".[$extras]"
    stamp="$(cat pyproject.toml | sha256sum | cut -c1-16)-$extras"
    if [ "$(cat .venv/.stridewatch-stamp 2>/dev/null)" != "$stamp" ]; then
        echo "installing stridewatch and its dependencies into .venv ..." >&2
        .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip \
            >/dev/null 2>&1 || true
        if ! .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec" \
            > .venv/pip-install.log 2>&1; then
            grep -v "^WARNING: Location" .venv/pip-install.log | tail -20 >&2
            die "pip install failed (the whole log: .venv/pip-install.log)"
        fi
        echo "$stamp" > .venv/.stridewatch-stamp
    fi
}
