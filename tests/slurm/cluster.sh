#!/bin/bash
# A real one-node Slurm cluster on localhost, for tests: `cluster.sh start DIR` writes a
# slurm.conf into DIR and starts munged (when not already running), slurmctld and slurmd;
# `cluster.sh stop DIR` stops what start started, by the pids it recorded. Needs root and
# Debian's slurmd slurmctld slurm-client munge packages.
set -euo pipefail

die() { echo "cluster.sh: $*" >&2; exit 1; }

write_conf() {
    local dir=$1 host=$2
    mkdir -p "$dir/state" "$dir/spool"
    cat > "$dir/slurm.conf" <<CONF
ClusterName=fleetbenchtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${FLEETBENCH_SLURMCTLD_PORT:-6817}
SlurmdPort=${FLEETBENCH_SLURMD_PORT:-6818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
}

start_munge() {
    local dir=$1
    if pgrep -x munged >/dev/null; then
        return
    fi
    if [[ ! -s /etc/munge/munge.key ]]; then
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    touch "$dir/started-munged"
}

wait_idle() {
    local host=$1
    for _ in $(seq 60); do
        state=$(sinfo -h -n "$host" -o %t 2>/dev/null || true)
        [[ $state == idle ]] && return 0
        sleep 1
    done
    die "node $host is not idle after 60 s (state '${state:-none}'); see the logs in $2"
}

start() {
    local dir=$1 host
    host=$(hostname -s)
    [[ $(id -u) == 0 ]] || die "must run as root"
    for tool in slurmctld slurmd sbatch sinfo munged; do
        command -v "$tool" >/dev/null || die "$tool not found (apt-get install slurmd slurmctld slurm-client munge)"
    done
    write_conf "$dir" "$host"
    start_munge "$dir"
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF" || die "slurmctld did not start; see $dir/slurmctld.log"
    slurmd -f "$SLURM_CONF" || die "slurmd did not start; see $dir/slurmd.log"
    wait_idle "$host" "$dir"
}

stop() {
    local dir=$1
    for daemon in slurmd slurmctld; do
        if [[ -s $dir/$daemon.pid ]]; then
            kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
        fi
    done
    if [[ -e $dir/started-munged && -s /run/munge/munged.pid ]]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    fi
}

case ${1:-} in
    start) start "${2:?usage: cluster.sh start DIR}" ;;
    stop) stop "${2:?usage: cluster.sh stop DIR}" ;;
    *) die "usage: cluster.sh start|stop DIR" ;;
esac
