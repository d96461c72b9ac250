#!/usr/bin/env bash
# A loudqc farm on a real Slurm cluster: a one-node cluster on this machine (issue 19).
#
#   tools/slurm-test.sh preflight            install Slurm and munge (Debian: slurm-wlm, munge),
#                                            start munged, slurmctld and slurmd, wait for the
#                                            node to be idle, stop them; exit 0 if all of that
#                                            worked, 1 (saying which step failed) otherwise
#   tools/slurm-test.sh run LOUDQC WORKDIR   the farm test, with the loudqc binary LOUDQC:
#     1. 16 programs made by sox in WORKDIR/media (12 stereo files, every fourth too loud, and
#        a 5.1 multi-mono set), and one local run: WORKDIR/local.jsonl;
#     2. sbatch --array=0-3 … loudqc check --shard auto --output results-%k.jsonl; wait;
#        loudqc merge → WORKDIR/all.jsonl, which must hold every program exactly once with the
#        same records as the local run (engine aside: it names the shard);
#     3. the same array with --resume; scancel one task mid-run (it must stop on SIGTERM with
#        exit 143 and whole records); merge must then exit 1 naming the missing programs;
#        scontrol requeue the task (same array variables, same --resume command); merge again
#        → WORKDIR/all-resumed.jsonl, equal to the local run again.
#   It prints what it does, ends with "slurm-test: OK", and stops the daemons it started.
#
# Needs root (the daemons, apt-get). Run by `.ci/run` when `preflight` passes, through the
# ignored Rust test tests/it/slurm.rs, which checks the files this leaves in WORKDIR again.
set -euo pipefail

say() { echo "slurm-test: $*" >&2; }
die() {
    say "FAIL: $*"
    exit 1
}

mode=${1:-}
case "$mode" in
preflight | run) ;;
*)
    echo "usage: $0 preflight | run LOUDQC WORKDIR" >&2
    exit 2
    ;;
esac

install_packages() {
    local missing=0
    for b in munged slurmctld slurmd sbatch sox jq; do
        command -v "$b" >/dev/null 2>&1 || missing=1
    done
    [ "$missing" = 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "not root: cannot install slurm-wlm and munge"
    say "installing slurm-wlm munge sox jq (Debian packages)"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge sox jq >/dev/null ||
        die "apt-get install slurm-wlm munge sox jq failed"
}

# The cluster lives in $CLUSTER (config, state, spool, logs, pid files).
CLUSTER=""
STARTED_MUNGED=""
stop_cluster() {
    [ -n "$CLUSTER" ] || return 0
    for d in slurmd slurmctld; do
        if [ -f "$CLUSTER/$d.pid" ]; then
            kill "$(cat "$CLUSTER/$d.pid")" 2>/dev/null || true
        fi
    done
    if [ -n "$STARTED_MUNGED" ] && [ -f /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    fi
    CLUSTER=""
}
trap stop_cluster EXIT

start_cluster() {
    CLUSTER=$1
    mkdir -p "$CLUSTER/state" "$CLUSTER/spool" "$CLUSTER/logs"
    [ "$(id -u)" = 0 ] || die "not root: slurmd must run as root"
    local host cpus mem_mb
    host=$(hostname -s)
    cpus=$(nproc)
    mem_mb=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2))
    # Ports away from a real cluster's 6817/6818; no accounting, no cgroups (a container may
    # have none to give).
    cat >"$CLUSTER/slurm.conf" <<EOF
ClusterName=loudqctest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$CLUSTER/state
SlurmdSpoolDir=$CLUSTER/spool
SlurmctldPidFile=$CLUSTER/slurmctld.pid
SlurmdPidFile=$CLUSTER/slurmd.pid
SlurmctldLogFile=$CLUSTER/slurmctld.log
SlurmdLogFile=$CLUSTER/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
KillWait=30
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=farm Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    export SLURM_CONF="$CLUSTER/slurm.conf"
    say "slurm.conf for $host: CPUs=$cpus RealMemory=$mem_mb (in $CLUSTER)"
    if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
        say "munged: already running"
    else
        mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
        chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
        if [ ! -s /etc/munge/munge.key ]; then
            mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null ||
                dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
            chown munge:munge /etc/munge/munge.key
            chmod 400 /etc/munge/munge.key
        fi
        runuser -u munge -- /usr/sbin/munged || die "munged did not start"
        STARTED_MUNGED=1
        sleep 1
        munge -n | unmunge >/dev/null || die "munged started but munge -n | unmunge fails"
        say "munged: started"
    fi
    slurmctld || die "slurmctld did not start (see $CLUSTER/slurmctld.log)"
    slurmd || die "slurmd did not start (see $CLUSTER/slurmd.log)"
    local state=""
    for _ in $(seq 60); do
        state=$(sinfo -h -o %T 2>/dev/null || true)
        [ "$state" = idle ] && break
        sleep 1
    done
    [ "$state" = idle ] || die "the node is '$state', not idle, after 60 s (see $CLUSTER/*.log)"
    say "slurmctld and slurmd: started; node $host idle ($(sinfo --version))"
}

if [ "$mode" = preflight ]; then
    install_packages
    start_cluster "$(mktemp -d /tmp/loudqc-slurm-preflight.XXXXXX)"
    say "preflight: the daemons start and the node is idle"
    exit 0
fi

[ $# -eq 3 ] || die "usage: $0 run LOUDQC WORKDIR"
LOUDQC=$(realpath "$2")
W=$(realpath -m "$3")
[ -x "$LOUDQC" ] || die "$LOUDQC is not an executable"
mkdir -p "$W"
install_packages
start_cluster "$W/cluster"

# 1. Media written by sox, and one local run.
M="$W/media"
mkdir -p "$M/stems"
for i in $(seq -w 0 11); do
    vol=0.063 # about -24 LUFS: passes
    [ $((10#$i % 4)) = 0 ] && vol=0.5 # too loud: these fail the streaming profile
    sox -R -n -r 48000 -c 2 -b 24 "$M/reel$i.wav" synth $((40 + 10#$i)) sine $((300 + 40 * 10#$i)) vol "$vol"
done
for t in L R C LFE Ls Rs; do
    sox -R -n -r 48000 -c 1 -b 24 "$M/stems/Film_$t.wav" synth 45 pinknoise vol 0.1
done
say "media: 12 stereo files and one 5.1 multi-mono set by $(sox --version | head -1)"
set +e
"$LOUDQC" check --jobs 2 --output "$W/local.jsonl" "$M" 2>"$W/local.err"
local_code=$?
set -e
tail -1 "$W/local.err" >&2
[ "$local_code" = 1 ] || die "the local run exited $local_code, expected 1 (some programs too loud)"
programs=$(wc -l <"$W/local.jsonl")
[ "$programs" = 13 ] || die "the local run wrote $programs records, expected 13"

# The job file: what a farm would submit.
job() { # $1 = results dir, $2 = extra flags
    cat <<EOF
#!/bin/bash
#SBATCH --job-name=loudqc-farm
#SBATCH --array=0-3
#SBATCH --cpus-per-task=1
#SBATCH --output=$1/task-%a.log
exec "$LOUDQC" check "$M" --jobs 1 --shard auto $2 --output "$1/results-%k.jsonl"
EOF
}

wait_job() { # $1 = job id
    for _ in $(seq 900); do
        [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
        sleep 1
    done
    die "job $1 still in the queue after 900 s"
}

same_as_local() { # $1 = merged file: equal to the local run, engine aside
    diff <(jq -cS 'del(.engine)' "$W/local.jsonl") <(jq -cS 'del(.engine)' "$1") >/dev/null ||
        die "$1 differs from the local run (engine aside)"
    jq -e -s 'all(.[]; .engine.shard.source == "SLURM_ARRAY_TASK_ID" and .engine.shard.count == 4)' \
        "$1" >/dev/null || die "$1: a record without engine.shard from SLURM_ARRAY_TASK_ID, N = 4"
}

# 2. The array job, merged.
R="$W/run1"
mkdir -p "$R"
job "$R" "" >"$R/job.sh"
J=$(sbatch --parsable --chdir="$R" "$R/job.sh")
say "submitted array job $J (--array=0-3, --shard auto, --output results-%k.jsonl); waiting"
wait_job "$J"
grep -h "shard .* of 13 programs" "$R"/task-*.log >&2 || die "no summary line in $R/task-*.log"
set +e
"$LOUDQC" merge "$R"/results-*.jsonl -o "$W/all.jsonl" --csv "$W/all.csv" 2>"$R/merge.err"
code=$?
set -e
cat "$R/merge.err" >&2
[ "$code" = "$local_code" ] || die "merge exited $code, the local run $local_code"
grep -q "every program exactly once" "$R/merge.err" || die "merge did not find every program once"
same_as_local "$W/all.jsonl"
say "run 1: 4 tasks merged, every program exactly once, the same records as the local run"

# 3. Kill one task mid-run, requeue it with the same --resume command.
R="$W/run2"
mkdir -p "$R"
job "$R" "--resume" >"$R/job.sh"
J=$(sbatch --parsable --chdir="$R" "$R/job.sh")
say "submitted array job $J with --resume; waiting for a running task with a record written and more to do"
victim=""
for _ in $(seq 3000); do
    for a in 0 1 2 3; do
        f="$R/results-$((a + 1)).jsonl"
        [ -s "$f" ] || continue
        state=$(squeue -h -j "${J}_$a" -o %T 2>/dev/null || true)
        [ "$state" = RUNNING ] || continue
        planned=$(head -1 "$f" | jq '.plan.programs | length' 2>/dev/null || echo 0)
        done_=$(($(wc -l <"$f") - 1))
        if [ "$done_" -ge 1 ] && [ "$done_" -lt "$planned" ]; then
            victim=$a
            break 2
        fi
    done
    sleep 0.1
done
[ -n "$victim" ] || die "no task was caught mid-run (each shard too small or too fast?)"
scancel "${J}_$victim"
say "scancel ${J}_$victim after $done_ of its $planned programs"
wait_job "$J"
exit_code=$(scontrol show job "${J}_$victim" | grep -o 'ExitCode=[0-9:]*' | head -1)
say "task $victim: $(scontrol show job "${J}_$victim" | grep -o 'JobState=[A-Z]*') $exit_code"
[ "$exit_code" = "ExitCode=143:0" ] || die "the cancelled task ended with $exit_code, not 143 (SIGTERM)"
grep "INTERRUPTED by SIGTERM" "$R/task-$victim.log" >&2 || die "no INTERRUPTED line in task-$victim.log"
set +e
"$LOUDQC" merge "$R"/results-*.jsonl -o "$R/partial.jsonl" 2>"$R/merge-partial.err"
code=$?
set -e
cat "$R/merge-partial.err" >&2
[ "$code" = 1 ] || die "merge of the interrupted farm exited $code, expected 1"
grep -q "MISSING" "$R/merge-partial.err" || die "merge did not report the missing programs"
echo "task=$victim $exit_code programs_done_before_kill=$done_ planned=$planned" >"$W/killed.txt"
scontrol requeue "${J}_$victim" || die "scontrol requeue ${J}_$victim failed"
say "requeued ${J}_$victim (same array variables, same --resume command); waiting"
wait_job "$J"
grep -h "already in" "$R/task-$victim.log" >&2 || die "the requeued task did not resume"
set +e
"$LOUDQC" merge "$R"/results-*.jsonl -o "$W/all-resumed.jsonl" 2>"$R/merge.err"
code=$?
set -e
cat "$R/merge.err" >&2
[ "$code" = "$local_code" ] || die "merge after the requeue exited $code, the local run $local_code"
grep -q "every program exactly once" "$R/merge.err" || die "merge after the requeue is incomplete"
same_as_local "$W/all-resumed.jsonl"
say "run 2: task $victim cancelled mid-run (exit 143), merge said MISSING (exit 1), requeued with --resume, merged: every program exactly once, the same records as the local run"
say "OK"
