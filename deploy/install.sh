#!/usr/bin/env bash
# Installs loa as a systemd service on a Debian machine (the district station's server or a
# commune station's PC). Run it as root from the source folder, after building:
#
#   sudo deploy/install.sh [--bin PATH] [PLAN.toml]
#   sudo deploy/install.sh --agent [--bin PATH]      (a commune machine: loa agent run)
#
# --agent installs loa-agent.service (`loa agent run`) instead of loa.service, and no plan:
# the machine gets its plan from the district server once enrolled (docs/en/agent.md).
# --bin PATH installs that binary instead of target/release/loa (built if missing).
# PLAN.toml is the plan the service plays (default: schedules/vinh-loc-2023.toml); it is
# copied to /etc/loa/plan.toml only when that file does not exist yet.
#
# Safe to run again (after an update, for instance): it creates what is missing, replaces
# the binary and the unit, and never overwrites loa.toml, the plan or the data. It does not
# start or restart the service: that is the operator's choice of moment (a restart during a
# slot interrupts what is on air). Guides: docs/vi/dich-vu.md, docs/en/service.md.
set -euo pipefail

readonly DATA_DIR=/var/lib/loa
readonly CONF_DIR=/etc/loa
readonly BIN=/usr/local/bin/loa
UNIT=/etc/systemd/system/loa.service
SERVICE=loa

step() { printf '\n==> %s\n' "$*"; }
die() {
    printf 'install.sh: %s\n' "$*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (sudo deploy/install.sh)"

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
agent=
if [[ ${1:-} == --agent ]]; then
    agent=1
    shift
fi
bin_src=
if [[ ${1:-} == --bin ]]; then
    [[ -n ${2:-} ]] || die "--bin needs a path"
    bin_src=$2
    shift 2
fi
[[ $# -le 1 ]] || die "usage: install.sh [--agent] [--bin PATH] [PLAN.toml]"
[[ -z $agent || $# -eq 0 ]] || die "--agent takes no plan: the machine gets it from the district server"
plan_src=${1:-$src/schedules/vinh-loc-2023.toml}
# (A flag, not a LOA_* variable: loa reads every LOA_* as a loa.toml override.)
given_bin=$bin_src
bin_src=${bin_src:-$src/target/release/loa}
[[ -f $plan_src ]] || die "$plan_src: no such plan file"

step "loa binary: $bin_src"
if [[ ! -x $bin_src ]]; then
    [[ -z $given_bin ]] || die "--bin $bin_src: not an executable file"
    # Build as the account that ran sudo: that is where rustup installed cargo.
    builder=${SUDO_USER:-root}
    echo "not built yet: cargo build --release (as $builder; 10-30 minutes the first time)"
    runuser -u "$builder" -- bash -lc "cd '$src' && cargo build --release"
    [[ -x $bin_src ]] || die "the build did not produce $bin_src"
fi
"$bin_src" --version

step "system account loa (groups loa, audio)"
getent group audio >/dev/null || groupadd --system audio
getent group loa >/dev/null || groupadd --system loa
if id -u loa >/dev/null 2>&1; then
    usermod --append --groups audio loa
    echo "loa exists; made sure it is in group audio"
else
    useradd --system --gid loa --groups audio --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "loa playout daemon" loa
    echo "created user loa"
fi

step "binary -> $BIN"
# Copy then rename: a running daemon keeps its old file until it restarts.
install -m 0755 "$bin_src" "$BIN.new"
mv -f "$BIN.new" "$BIN"
"$BIN" --version

step "folders: $DATA_DIR (loa, 0750), $CONF_DIR (root, 0755)"
install -d -o loa -g loa -m 0750 "$DATA_DIR"
install -d -o root -g root -m 0755 "$CONF_DIR"

if [[ -n $agent ]]; then
    UNIT=/etc/systemd/system/loa-agent.service
    SERVICE=loa-agent
fi
readonly UNIT SERVICE

if [[ -n $agent ]]; then
    step "plan: none (a commune machine plays the plan its district server sends)"
else
step "plan -> $CONF_DIR/plan.toml"
if [[ -e $CONF_DIR/plan.toml ]]; then
    echo "kept the existing $CONF_DIR/plan.toml"
else
    install -o root -g root -m 0644 "$plan_src" "$CONF_DIR/plan.toml"
    echo "copied $plan_src"
fi
"$BIN" plan check "$CONF_DIR/plan.toml" ||
    die "$CONF_DIR/plan.toml has errors (listed above); fix it, then run install.sh again"
fi

step "config $DATA_DIR/loa.toml and database: loa init (as loa)"
if [[ -e $DATA_DIR/loa.toml ]]; then
    echo "kept the existing $DATA_DIR/loa.toml"
else
    # `loa init` writes deploy/loa.toml.example (a test keeps the two equal) and fills
    # in what must differ per machine, such as a fresh control-API token; a copy made
    # here would leave the token empty.
    echo "none yet: loa init writes it from deploy/loa.toml.example"
fi
# Creates what is missing and migrates an existing database; deletes nothing.
runuser -u loa -- "$BIN" init --data-dir "$DATA_DIR"
[[ -e $DATA_DIR/loa.toml ]] || install -o loa -g loa -m 0640 "$src/deploy/loa.toml.example" "$DATA_DIR/loa.toml"
chmod 0640 "$DATA_DIR/loa.toml"

step "systemd unit -> $UNIT"
install -o root -g root -m 0644 "$src/deploy/$SERVICE.service" "$UNIT"
if [[ -d /run/systemd/system ]]; then
    systemctl daemon-reload
    systemctl enable "$SERVICE.service"
    if systemctl is-active --quiet "$SERVICE.service"; then
        echo "$SERVICE is running the old binary; restart it between slots: systemctl restart $SERVICE"
    else
        echo "enabled (starts at boot); start it now with: systemctl start $SERVICE"
    fi
else
    echo "systemd is not running here: unit installed, not enabled"
fi

step "done"
if [[ -n $agent ]]; then
    echo "data: $DATA_DIR   logs: journalctl -u loa-agent"
    echo "enrol it before starting: runuser -u loa -- $BIN agent enroll --data-dir $DATA_DIR --server URL --token TOKEN"
else
    echo "data: $DATA_DIR   plan: $CONF_DIR/plan.toml   logs: journalctl -u loa"
fi
