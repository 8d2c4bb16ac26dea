#!/bin/bash
# Tools for the fleet tests (issue 8), idempotent:
#  - Debian's Slurm and munge, for tests/slurm.rs, which starts its own one-node cluster;
#  - kubernetes-validate from PyPI (it ships the Kubernetes JSON schemas, so validation needs no
#    network), for tests/integration/kubernetes.rs, in a virtual environment linked onto PATH.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q -o Dpkg::Use-Pty=0 slurmd slurmctld slurm-client munge >/dev/null

venv=/opt/fleetbench-ci-venv
if [[ ! -x $venv/bin/kubernetes-validate ]]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        apt-get install -y -q -o Dpkg::Use-Pty=0 python3 python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'kubernetes-validate==1.37.0'
fi
ln -sf "$venv/bin/kubernetes-validate" /usr/local/bin/kubernetes-validate
kubernetes-validate --version >/dev/null
command -v slurmctld slurmd sbatch munged >/dev/null
