#!/usr/bin/env bash
# jgpt side by side with PyTorch-CPU, llm.c and the machine's limits; see compare.py --help.
#   benchmarks/scripts/compare.sh [--threads N] [--runs K] [--llmc PATH] [--quick] [--out DIR]
# Debian's python (/usr/bin/python3) is the one python3-torch installs into.
exec /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/compare.py" "$@"
