#!/usr/bin/env bash
# Build the scdefer image and run it for real: the CLI and the demo inside it as an arbitrary UID
# with a read-only root, then the Nextflow test profile with every task in the container.
# Run by .ci/run after the test suite, or by hand (as root, or with rootful podman). It installs
# podman from Debian's packages when missing, makes a Python base image from Debian packages (no
# registry is needed), and removes every image and folder it made.
#
#   bash scripts/container_tests.sh            # KEEP_IMAGE=1 keeps the built image
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' src/scdefer/_version.py)
IMAGE="ghcr.io/scdefer/scdefer:${VERSION}"   # the modules' default container, so the pipeline uses it as is
BASE=localhost/scdefer-ci-python:3.11-bookworm
TMP=$(mktemp -d /tmp/scdefer-containers.XXXXXX)
SHM_DIR=""   # the build's temporary layer copies, when they go to /dev/shm
PASSED=0 FAILED=0
declare -a SUMMARY

log() { printf 'container-tests: %s\n' "$*"; }
free_disk() { df -h --output=avail "$1" | tail -1 | tr -d ' '; }
step() {  # step NAME COMMAND...: run, time and tally one check
    local name=$1 start=$SECONDS
    shift
    log "== ${name}"
    if "$@"; then
        PASSED=$((PASSED + 1)); SUMMARY+=("ok    ${name} ($((SECONDS - start)) s)")
    else
        FAILED=$((FAILED + 1)); SUMMARY+=("FAIL  ${name} ($((SECONDS - start)) s)")
    fi
}
cleanup() {
    if [ -z "${KEEP_IMAGE:-}" ]; then
        podman rmi -f "$IMAGE" "$BASE" >/dev/null 2>&1
        podman image prune -f >/dev/null 2>&1
    fi
    rm -rf "$TMP" "$SHM_DIR"
}
trap cleanup EXIT

engine() {
    if ! command -v podman >/dev/null || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap >/dev/null
    fi
    # Host quirks of these machines (../shared/docs/CONTAINER-TESTING.md): crun cannot run under
    # hybrid cgroups, and root may not raise the open-file limit podman asks for.
    local nofile
    nofile=$(ulimit -Hn)
    cat > "$TMP/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
    export CONTAINERS_CONF=$TMP/containers.conf
    podman --version
}

base_image() {  # Debian's Python 3.11 as a base image: no registry is reachable here
    podman image exists "$BASE" && return 0
    mmdebstrap --quiet --variant=minbase \
        --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates,procps,bash \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/*' bookworm "$TMP/rootfs.tar" \
        && podman import --change 'CMD ["python3"]' "$TMP/rootfs.tar" "$BASE" >/dev/null \
        && rm -f "$TMP/rootfs.tar"
}

build() {  # the CA bundle is mounted for the build only (HTTPS goes through a proxy here)
    local args=(--quiet -f containers/Dockerfile --build-arg PYTHON_IMAGE="$BASE"
        --build-arg VERSION="$VERSION" --build-arg CREATED="$(date -u +%FT%TZ)"
        --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)")
    [ -f /etc/ssl/certs/ca-certificates.crt ] \
        && args+=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
    local store stage copies=$TMP
    store=$(podman info --format '{{.Store.GraphRoot}}')
    log "free disk where images are stored (${store}): $(free_disk "$store")"
    # Committing a layer writes two temporary copies of it under TMPDIR: in memory when /dev/shm
    # has room for them (the largest layer is 1.2 GB), on the disk otherwise.
    if [ "$(df --output=avail -B1G /dev/shm 2>/dev/null | tail -1 | tr -d ' ')" -ge 4 ] 2>/dev/null; then
        copies=$(mktemp -d /dev/shm/scdefer-build.XXXXXX) && SHM_DIR=$copies
    fi
    log "temporary layer copies in ${copies}"
    # One stage per build, in file order: each build removes its working containers when it ends
    # and the next one starts from the cached stages (containers/Dockerfile says why).
    for stage in $(sed -n 's/^FROM .* AS \([[:alnum:]_.-]*\)$/\1/p' containers/Dockerfile); do
        TMPDIR=$copies podman build "${args[@]}" --target "$stage" . >/dev/null \
            || { log "stage ${stage} failed"; return 1; }
        log "stage ${stage} built; free disk: $(free_disk "$store")"
    done
    TMPDIR=$copies podman build "${args[@]}" -t "$IMAGE" . >/dev/null || return 1
    log "image size: $(podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.2f GB", $1 / 1e9}')"
}

in_image() {  # an arbitrary UID, a read-only root, a writable /tmp only
    podman run --rm --pull=never --user 12345:12345 --read-only --tmpfs /tmp:rw,size=2g "$IMAGE" "$@"
}

version() {
    local out
    out=$(in_image scdefer --version) || return 1
    log "$out"
    [ "$out" = "scdefer ${VERSION}" ] && in_image scdefer train --help >/dev/null
}

demo() {  # the README's demo; then the metrics it wrote must show the simulated groups found
    in_image bash -c 'scdefer run -o /tmp/demo --quiet && python - <<EOF
import json
m = json.load(open("/tmp/demo/report/metrics.json"))
print("demo metrics:", {k: m[k] for k in ("nmi", "ari", "n_clusters_found", "n_clusters_true")})
assert m["ari"] > 0.9 and m["n_clusters_found"] == m["n_clusters_true"], m
EOF'
}

cuda_without_gpu() {  # --device cuda with no GPU: one error line, exit 2, nothing written
    in_image bash -c 'scdefer simulate -o /tmp/s.h5ad --n-cells 300 --quiet \
        && scdefer preprocess /tmp/s.h5ad -o /tmp/p.h5ad --quiet || exit 1
    scdefer train /tmp/p.h5ad -o /tmp/c.h5ad --device cuda 2> /tmp/err; rc=$?
    echo "container-tests: stderr: $(cat /tmp/err)"
    [ "$rc" -eq 2 ] && [ "$(wc -l < /tmp/err)" -eq 1 ] && grep -q "^scdefer: error: --device cuda" /tmp/err \
        && [ ! -e /tmp/c.h5ad ]'
}

pipeline() {  # every task in the container; scdefer is not on the host PATH
    local out=$TMP/nf
    mkdir -p "$out"
    (
        cd "$out" || exit 1
        export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NXF_ANSI_LOG=false
        export NXF_HOME=${NXF_HOME:-$ROOT/.ci/cache/nxf_home}
        if command -v scdefer >/dev/null; then log "scdefer is on the host PATH"; exit 1; fi
        "$ROOT/scripts/nextflow" run "$ROOT/main.nf" -profile test,podman --outdir "$out/results" \
            > "$out/nextflow.log" 2>&1 || { tail -40 "$out/nextflow.log"; exit 1; }
    ) || return 1
    "$ROOT/.venv/bin/python" "$ROOT/scripts/check_pipeline_outputs.py" "$out/results" "$out/work"
}

step "podman and runc installed" engine
step "Python base image from Debian packages" base_image
step "build containers/Dockerfile" build
step "scdefer --version as UID 12345, read-only root" version
step "demo run inside the image, metrics checked" demo
step "--device cuda without a GPU: one error line, exit 2" cuda_without_gpu
step "nextflow run main.nf -profile test,podman" pipeline
log "Galaxy inside the container: not run (see README, 'Containers': Galaxy's container resolution needs a docker CLI and a registry here)"
printf 'container-tests: %s\n' "${SUMMARY[@]}"
echo "container-tests: ${PASSED} passed, ${FAILED} failed"
[ "$FAILED" -eq 0 ]
