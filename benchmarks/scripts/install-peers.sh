#!/usr/bin/env bash
# Installs the peer used by torch_sgemm.py: Debian's PyTorch (python3-torch) linked against
# OpenBLAS (libopenblas0-pthread). Only installs what is missing; needs root or sudo.
set -euo pipefail

pkgs=(python3-torch libopenblas0-pthread python3-threadpoolctl)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "peers already installed: ${pkgs[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing: ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
/usr/bin/python3 -c 'import torch; print("torch", torch.__version__)'
