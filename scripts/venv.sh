# shellcheck shell=bash
# Sourced by scripts/test and scripts/run (not run directly).
# ensure_venv REQUIREMENTS_FILE: create or reuse $REPO_ROOT/.venv with the current python3
# and pip-install the given requirements file into it. Sets VENV_PY.

ensure_venv() {
    local req="$1"
    local venv="$REPO_ROOT/.venv"
    local want have
    want="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" || {
        echo "venv: python3 not found" >&2; return 1; }
    if [ -x "$venv/bin/python" ]; then
        have="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
        if [ "$have" != "$want" ]; then
            echo "venv: .venv is Python ${have:-broken}, python3 is $want: recreating"
            rm -rf "$venv"
        fi
    fi
    if [ ! -x "$venv/bin/python" ]; then
        echo "venv: creating .venv with $(command -v python3) ($want)"
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            # Debian's python3 ships venv/ensurepip separately.
            rm -rf "$venv"
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                echo "venv: python3 -m venv failed; installing python3-venv with apt-get"
                DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python3-venv" "python${want}-venv" </dev/null >/dev/null \
                    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv </dev/null >/dev/null
            fi
            python3 -m venv "$venv" || { echo "venv: cannot create $venv" >&2; return 1; }
        fi
    fi
    local log="$venv/pip-install.log"
    echo "venv: pip install -r $req"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$REPO_ROOT/$req" </dev/null >"$log" 2>&1; then
        echo "venv: pip install -r $req failed; last lines of $log:" >&2
        tail -n 30 "$log" >&2
        return 1
    fi
    # shellcheck disable=SC2034  # used by the scripts that source this file
    VENV_PY="$venv/bin/python"
}

# venv_for_tools REQUIREMENTS_FILE: for the command wrappers (scripts/simulator, scripts/bench),
# whose stdout is the tool's own: reuse .venv when it already imports the engine's requirements,
# else set it up as ensure_venv does, talking on stderr. Sets VENV_PY.
venv_for_tools() {
    local py="$REPO_ROOT/.venv/bin/python"
    if [ -x "$py" ] && "$py" -c 'import requests, cryptography, phonenumbers' 2>/dev/null; then
        # shellcheck disable=SC2034  # used by the scripts that source this file
        VENV_PY="$py"
        return 0
    fi
    ensure_venv "$1" >&2
}
