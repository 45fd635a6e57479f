#!/usr/bin/env bash
# One entry point for a fresh machine (Debian 12, Python 3.11):
#   bash scripts/bootstrap.sh demo   # set up, generate the demo district, run it end to end
#   bash scripts/bootstrap.sh test   # set up, ruff check + format --check, the test suite (pytest + nbval)
#   bash scripts/bootstrap.sh lint   # ruff check + ruff format --check only
#   bash scripts/bootstrap.sh unit [pytest args]   # pytest only;  ... nbval  # notebooks only
#   slow tests (1M-scale): bash scripts/bootstrap.sh unit -m slow
#   bash scripts/bootstrap.sh setup  # set up only
#   bash scripts/bootstrap.sh lab [jupyter args]   # JupyterLab on the project, kernel canbao
# Set-up is idempotent: the venv is rebuilt only when requirements.lock changes.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3

apt_packages=(poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0)

# The test set-up only (never the demo): the browser tests load pages in headless Chromium
# and read them back with Tesseract OCR (Simplified Chinese).
test_apt_packages=(chromium tesseract-ocr tesseract-ocr-chi-sim)

system_setup() {
    # WeasyPrint needs Pango (+ harfbuzz-subset for fast font subsetting); tests use pdftoppm/pdffonts.
    # Arguments: extra packages (the test set-up passes test_apt_packages).
    local missing=()
    for p in "${apt_packages[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "== installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_setup() {
    local stamp="$VENV/.canbao-lock.sha256"
    local want
    want=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "== creating $VENV from requirements.lock"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q "pip==26.3"
    # --no-deps: exactly the pinned set, nothing re-resolved (keeps rfc3987-syntax out:
    # importing it builds a lark grammar, 1.5 s on every nbformat import)
    "$VENV/bin/python" -m pip install -q --no-deps -r requirements.lock
    "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name canbao --display-name "canbao (venv)" >/dev/null
    echo "$want" > "$stamp"
}

setup() {
    system_setup
    python_setup
}

lint() {
    # fail fast, before the long pytest run: lint, then formatting (no file is rewritten)
    "$VENV/bin/ruff" check src tests benchmarks
    "$VENV/bin/ruff" format --check src tests benchmarks
}

nbval_run() {
    # nbval re-executes the papermill output (its injected-parameters cell included) and
    # compares outputs; sanitize.cfg masks timestamps, temp paths and addresses.
    "$VENV/bin/python" tests/notebooks/build_executed.py build/nbval
    "$VENV/bin/python" -m pytest -o addopts="" -p no:cacheprovider --nbval \
        --nbval-kernel-name canbao --nbval-sanitize-with tests/notebooks/sanitize.cfg \
        build/nbval/reports/430302/*/notebooks
}

browser_run() {
    # The pages nbval_run built (build/nbval), screenshotted with no CJK font and read by OCR.
    CANBAO_PAGES_DIR="$ROOT/build/nbval/reports/430302" "$VENV/bin/python" -m pytest \
        -p no:cacheprovider -n 0 -m browser
}

case "${1:-}" in
    setup)
        setup ;;
    demo)
        setup
        "$VENV/bin/canbao" demo --district 430302 --people "${CANBAO_DEMO_PEOPLE:-50000}" --seed 20261128
        "$VENV/bin/canbao" run data/raw/430302
        echo "== done: open reports/430302/index.html" ;;
    test)
        # unit and end-to-end tests, then nbval on freshly executed demo notebooks
        system_setup "${test_apt_packages[@]}"
        setup
        lint
        export CANBAO_REQUIRE_BROWSER=1   # browser tests fail, never skip, when a binary is missing
        "$VENV/bin/python" -m pytest -n 2 -m "not slow and not browser"   # includes the Spark parity tests
        nbval_run
        browser_run ;;
    unit)
        setup
        shift || true
        "$VENV/bin/python" -m pytest "$@" ;;
    nbval)
        setup
        nbval_run ;;
    lab)
        # The notebooks in notebooks/ run in place with their defaults once the demo has run.
        setup
        shift || true
        [ -d data/raw/430302 ] || echo "== no demo data yet: run 'bash scripts/bootstrap.sh demo' first"
        as_root=()
        [ "$(id -u)" -eq 0 ] && as_root=(--allow-root)   # containers often run as root
        exec "$VENV/bin/jupyter" lab "${as_root[@]}" --ServerApp.root_dir="$ROOT" \
            --ServerApp.preferred_dir="$ROOT/notebooks" \
            --MappingKernelManager.default_kernel_name=canbao "$@" ;;
    lint)
        setup
        lint ;;
    *)
        echo "usage: bash scripts/bootstrap.sh {demo|test|unit|nbval|lint|setup}" >&2; exit 2 ;;
esac
