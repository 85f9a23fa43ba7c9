#!/usr/bin/env bash
# Create (or update) the project environment in .venv: pinned requirements
# (offline-installable, see requirements/) and stoavlp in editable mode.
# Idempotent: a second run with unchanged requirements returns in seconds.
#
#   bash tools/setup.sh          # PYTHON=python3.11 to pick the interpreter
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $($PYTHON --version)"
    "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.stoavlp-setup"
want=$(cat requirements.txt requirements/*.txt setup.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
        && "$VENV/bin/python" -c "import stoavlp" >/dev/null 2>&1; then
    echo "[setup] $VENV is up to date"
    exit 0
fi

start=$(date +%s)
# torchcodec (a decoding backend) loads the FFmpeg shared libraries at run
# time; PyAV and decord bring their own copies, torchcodec does not
FFMPEG_LIBS="libavcodec59 libavformat59 libavutil57 libswscale6 libswresample4 libavdevice59 libavfilter8"
if ! ldconfig -p | grep -q 'libavcodec\.so\.'; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "[setup] installing the FFmpeg shared libraries for torchcodec"
        apt-get install -y -q --no-install-recommends $FFMPEG_LIBS >/dev/null \
            || { apt-get update -q >/dev/null && apt-get install -y -q \
                 --no-install-recommends $FFMPEG_LIBS >/dev/null; }
    else
        echo "[setup] torchcodec needs FFmpeg's shared libraries: sudo apt-get install $FFMPEG_LIBS (or your distribution's ffmpeg libraries)"
    fi
fi
echo "[setup] installing pinned requirements (about 2 min on a fresh machine)"
"$VENV/bin/python" -m pip install -q --upgrade pip
# ranges from the requirement files, exact versions from the constraints
if "$VENV/bin/python" -m pip show -q mmcv >/dev/null 2>&1; then
    # full mmcv (tools/install_mmcv_full.sh) is installed: mmcv-lite, the
    # same package without compiled ops, must not be installed over it
    "$VENV/bin/python" -m pip install -q -c requirements/constraints.txt \
        -r requirements/runtime.txt -r requirements/tagger.txt \
        -r requirements/tests.txt \
        $(grep -v '^mmcv' requirements/mminstall.txt | grep -v '^#')
else
    "$VENV/bin/python" -m pip install -q -c requirements/constraints.txt \
        -r requirements.txt
fi
"$VENV/bin/python" -m pip install -q --no-deps -r requirements/openmim.txt
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
"$VENV/bin/python" -c "import stoavlp, mmaction.models; print('[setup] stoavlp', stoavlp.__version__, 'and mmaction.models import fine')" 2>/dev/null
echo "$want" > "$stamp"
echo "[setup] done in $(( $(date +%s) - start )) s"
