#!/usr/bin/env bash
# Build and install full mmcv 2.1.0 (compiled ops: RoIAlign, nms, ...) into
# the active Python environment. Needed only for mmdet detectors
# (tools/data/extract_objects.py) and roi_layer=dict(type='MMCVRoIAlign');
# everything else works with mmcv-lite.
#
#   source .venv/bin/activate && bash tools/install_mmcv_full.sh
#
# Idempotent: does nothing when `mmcv.ops` already imports. There is no
# binary wheel for torch 2.14 on the registry, so it compiles from the sdist:
# about 12 minutes on 2 cores (MAX_JOBS=2). The wheel is kept in
# $STOAVLP_CACHE (default ~/.cache/stoavlp) under a name that carries the
# torch version with its CUDA suffix, the Python tag and the ops flavour
# (CPU or CUDA; `--print-key` prints it), so a fresh environment with the
# same torch (a clean CI checkout) installs it in seconds, and one with
# another torch or CUDA rebuilds instead of silently reusing an
# ABI-incompatible or CPU-only build. CUDA ops are built when nvcc is
# present and torch sees a GPU (FORCE_CUDA=0/1 overrides).
# What the build needs (docs: ../shared/spec/environment.md):
#   - setuptools<81 (mmcv's setup.py imports pkg_resources),
#   - -std=c++20 instead of -std=c++17 (ATen of torch >= 2.10 requires C++20),
#   - --no-build-isolation (build against the installed torch) and
#     --no-cache-dir (pip's own cache may hold a build for another torch).
set -euo pipefail
PYTHON=${PYTHON:-python}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}

# CUDA ops when nvcc is present and torch sees a GPU (FORCE_CUDA=0/1
# overrides; FORCE_CUDA=1 to build them on a GPU-less login node, which
# takes much longer): either way the flavour is in the cache key, so a
# CPU-ops build is never the one GPU nodes reuse.
if [ -z "${FORCE_CUDA:-}" ]; then
    if command -v nvcc >/dev/null 2>&1 && \
            "$PYTHON" -c "import torch, sys; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
        FORCE_CUDA=1
    else
        FORCE_CUDA=0
    fi
fi
# The cache key: mmcv version, torch version with its CUDA suffix (+cu130,
# +cpu), Python tag, ops flavour.
key=$("$PYTHON" -c "
import sys, torch
flavour = 'ops-cuda' if '$FORCE_CUDA' == '1' else 'ops-cpu'
print(f'mmcv-$MMCV_VERSION-torch{torch.__version__}-cp{sys.version_info[0]}{sys.version_info[1]}-{flavour}')")
if [ "${1:-}" = "--print-key" ]; then
    echo "$key"
    exit 0
fi

if "$PYTHON" -c "import mmcv.ops" >/dev/null 2>&1; then
    # a CPU-only build under a torch that sees a GPU would run its ops on
    # the CPU or fail: not reused
    if "$PYTHON" -c "
import sys, torch
from mmcv.ops import get_compiling_cuda_version
sys.exit(torch.cuda.is_available() and get_compiling_cuda_version() == 'not available')" 2>/dev/null; then
        echo "full mmcv is already installed: $("$PYTHON" -c 'import mmcv; print(mmcv.__version__)')"
        exit 0
    fi
    echo "the installed full mmcv has CPU ops only but torch sees a GPU: rebuilding"
    if [ "$FORCE_CUDA" != 1 ]; then
        echo "error: no nvcc/CUDA torch to build CUDA ops with (install the CUDA toolkit, or FORCE_CUDA=1)" >&2
        exit 1
    fi
fi

start=$(date +%s)
cache=${STOAVLP_CACHE:-$HOME/.cache/stoavlp}/$key
mkdir -p "$cache"

if ! ls "$cache"/mmcv-*.whl >/dev/null 2>&1; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT

    echo "[1/4] build requirements"
    "$PYTHON" -m pip install -q 'setuptools<81' ninja wheel

    echo "[2/4] fetching the mmcv $MMCV_VERSION source distribution"
    # --no-build-isolation: reading the sdist's metadata already needs
    # pkg_resources, i.e. the setuptools<81 installed above.
    "$PYTHON" -m pip download --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$work" -q
    tar -xzf "$work"/mmcv-"$MMCV_VERSION".tar.gz -C "$work"
    src="$work/mmcv-$MMCV_VERSION"

    echo "[3/4] patching setup.py for torch >= 2.10 (C++20)"
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"

    echo "[4/4] compiling (about 12 min with MAX_JOBS=2; set MAX_JOBS for more cores)"
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2} FORCE_CUDA=$FORCE_CUDA \
        "$PYTHON" -m pip wheel --no-deps --no-build-isolation --no-cache-dir \
        "$src" -w "$work/wheel"
    # Move into place only when complete: a killed build leaves no wheel.
    mv "$work"/wheel/mmcv-*.whl "$cache"/
else
    echo "reusing the wheel cached as $key: $(ls "$cache"/mmcv-*.whl)"
fi

"$PYTHON" -m pip uninstall -y -q mmcv-lite || true
"$PYTHON" -m pip install -q --no-deps --force-reinstall "$cache"/mmcv-*.whl
"$PYTHON" -c "import mmcv, mmcv.ops; print('mmcv', mmcv.__version__, 'with ops installed')"
echo "done in $(( $(date +%s) - start )) s"
