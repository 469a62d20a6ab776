#!/usr/bin/env bash
# The whole test suite: lint, Rust tests, build + install the package, type-stub check, pytest.
# Installs what it needs (Python packages from PyPI into ./.venv, graphviz from Debian when
# apt-get is available) so it passes on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

if [ -z "${VIRTUAL_ENV:-}" ]; then
    step "python environment (.venv)"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
python -m pip install -q --upgrade pip
python -m pip install -q "maturin>=1.7,<2" numpy scipy networkx "hypothesis>=6.100" pytest ruff mypy \
    auditwheel scikit-learn matplotlib

step "rust formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

step "rust tests"
cargo test -p sparsedag --locked

step "build the abi3 wheel (release), check its manylinux tag, install it"
rm -rf target/wheels
maturin build --release --quiet --out target/wheels
auditwheel show target/wheels/sparsedag-*.whl
python -m pip install -q --no-deps --force-reinstall target/wheels/sparsedag-*.whl

step "python lints"
ruff check python tests benches examples
ruff format --check python tests benches examples

step "type stubs match the extension module"
(cd /tmp && python -m mypy.stubtest sparsedag._core --concise)

step "python tests"
python -m pytest -q tests
