#!/usr/bin/env bash
# The quick start's main job: the Acme Pay example through the all-in-one vigil on the embedded default.
# Every command acts on one deployment (the data dir), so the report at the end covers all three scans.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=${VIGIL_DATA_DIR:-./.vigil}
vigil() { node services/vigil/bin/vigil.js "$@" --data-dir "$data_dir"; }

node examples/payments/image/build.mjs
echo
# The advisories the example image is matched against: real OSV records for its packages. A real deployment
# runs `vigil db update` (OSV's ecosystem dumps) or imports the dumps it mirrors.
echo '$ vigil db import examples/payments/advisories'
vigil db import examples/payments/advisories
echo
echo '$ vigil scan image examples/payments/build/payment-api.tar'
vigil scan image examples/payments/build/payment-api.tar
echo
echo '$ vigil scan k8s examples/payments/k8s'
vigil scan k8s examples/payments/k8s
echo
# The node fixture becomes a real root (modes, owners, /proc/<N>/cmdline) before the host assessor reads it.
node_root=$(node examples/payments/node/materialize.mjs)
echo "\$ vigil scan host --root ${node_root#"$PWD/"} --node pay-worker-1"
vigil scan host --root "$node_root" --node pay-worker-1
echo
echo '$ vigil report'
vigil report
