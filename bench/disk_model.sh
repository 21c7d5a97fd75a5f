#!/usr/bin/env bash
# More seeds for the model-based disk test (tests/disk_model.rs): random
# file operations under vkernel on ext4 images and natively, compared.
#   bench/disk_model.sh [FIRST-LAST] [OPS]     (default 1-200, 400 operations)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-1-200}
ops=${2:-400}
VK_DISK_MODEL_SEEDS=$seeds VK_DISK_MODEL_OPS=$ops exec cargo test --release --test disk_model -- --nocapture
