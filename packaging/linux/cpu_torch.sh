#!/usr/bin/env bash
# Swap the CUDA torch of a Linux venv for PyTorch's CPU build of the same version, and
# remove the CUDA packages (nvidia-*, cuda-*, triton) the CUDA build brought. Called by
# build.sh after `uv sync --locked`: uv.lock takes torch from the package index, whose
# Linux build is the CUDA one (~3 GB), and the desktop package must carry a CPU torch.
#
#   packaging/linux/cpu_torch.sh [VENV]        # default: .venv
#
# The CPU wheel comes from a local folder when one holds it (no network): the folders in
# COMPOSER_GUI_TORCH_WHEELS, then pip's find-links (PIP_FIND_LINKS, pip.conf), all
# space-separated; CI keeps torch-<version>+cpu-cp311-...whl in /opt/wheels. Otherwise
# it comes from PyTorch's CPU index (COMPOSER_GUI_TORCH_INDEX, default
# https://download.pytorch.org/whl/cpu). It ends by checking that torch is a CPU build
# and that no CUDA package is left.
set -euo pipefail
venv=${1:-.venv}
py="$venv/bin/python"
index=${COMPOSER_GUI_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
cuda_pkgs='^(nvidia-.*|cuda-bindings|cuda-pathfinder|cuda-toolkit|triton)$'

# the locked version (without its local tag: 2.13.0+cu130 -> 2.13.0), the wheel tags
read -r version pytag arch < <("$py" - <<'PY'
import importlib.metadata, platform, sys
print(importlib.metadata.version("torch").split("+")[0],
      f"cp{sys.version_info.major}{sys.version_info.minor}", platform.machine())
PY
)
cuda=$("$py" -c 'import torch; print(torch.version.cuda is not None)')
if [ "$cuda" = True ]; then
    # pip's find-links (pip.conf, PIP_FIND_LINKS), as `pip config list` shows them
    pip_links=$(python3 -m pip config list 2>/dev/null \
        | sed -n "s/^[^=]*find-links='\(.*\)'\$/\1/p" | tr '\n' ' ' || true)
    wheel=
    for dir in ${COMPOSER_GUI_TORCH_WHEELS:-} ${PIP_FIND_LINKS:-} $pip_links; do
        dir=${dir#file://}
        [ -d "$dir" ] || continue
        for candidate in "$dir"/torch-"$version"+cpu-"$pytag"-"$pytag"-*linux*_"$arch".whl; do
            [ -f "$candidate" ] && wheel=$candidate && break 2
        done
    done
    if [ -n "$wheel" ]; then
        echo "CPU torch $version from $wheel"
        uv pip install --python "$py" --no-deps --reinstall "$wheel"
    else
        echo "CPU torch $version from $index"
        uv pip install --python "$py" --no-deps --reinstall --index-url "$index" "torch==$version"
    fi
fi

cuda_installed=$(uv pip list --python "$py" --format freeze | cut -d= -f1 | grep -E "$cuda_pkgs" || true)
if [ -n "$cuda_installed" ]; then
    echo "removing the CUDA packages: $(echo $cuda_installed)"
    # shellcheck disable=SC2086
    uv pip uninstall --python "$py" $cuda_installed
fi

# A CUDA torch must never reach the package: check the result, not the steps above.
left=$(uv pip list --python "$py" --format freeze | cut -d= -f1 | grep -E "$cuda_pkgs" || true)
[ -z "$left" ] || { echo "CUDA packages left in $venv: $left" >&2; exit 1; }
"$py" - "$version" <<'PY'
import pathlib, sys
import torch
assert torch.version.cuda is None, f"torch {torch.__version__} is a CUDA build"
assert torch.__version__.split("+")[0] == sys.argv[1], torch.__version__
lib = pathlib.Path(torch.__file__).parent / "lib"
cuda_libs = sorted(p.name for p in lib.iterdir() if "cuda" in p.name or "nvrtc" in p.name)
assert not cuda_libs, f"CUDA libraries in torch/lib: {cuda_libs}"
print(f"torch {torch.__version__}: a CPU build")
PY
