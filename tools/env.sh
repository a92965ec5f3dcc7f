# Sourced by the Makefile and by hand (`. tools/env.sh`): puts the project's tools first on PATH.
_hv_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
export HV_ROOT="$_hv_root"
export PATH="$_hv_root/.venv/bin:$_hv_root/node_modules/@foundry-rs/anvil-linux-amd64/bin:$_hv_root/node_modules/@foundry-rs/forge-linux-amd64/bin:$_hv_root/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"
export APE_DATA_FOLDER="$_hv_root/.ape"
unset _hv_root
