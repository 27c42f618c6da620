#!/usr/bin/env bash
# Lint the Galaxy wrappers and run their <tests> on a real, pip-installed Galaxy server.
# Installs planemo and Galaxy into .ci/cache (first run: ~3 min, 1.7 GB), starts galaxy-web on
# 127.0.0.1, runs galaxy-tool-test per tool, kills the server by PID, and prints
#   galaxy-tool-tests: N passed, N failed
# scdefer must be installed in .venv (scripts/install.sh). Exit status 0 only when all pass.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SCDEFER_GALAXY_CACHE:-$root/.ci/cache/galaxy}"
tools="$root/galaxy/scdefer"
port="${GALAXY_PORT:-8089}"
key="scdefer-ci-admin-key"
mkdir -p "$cache"

# 1. planemo lint (offline: no --doi/--urls/--biocontainer).
if [ ! -x "$cache/planemo/bin/planemo" ]; then
  python3 -m venv "$cache/planemo"
  "$cache/planemo/bin/pip" install --quiet --disable-pip-version-check "planemo==0.75.47"
fi
"$cache/planemo/bin/planemo" lint --fail_level warn --report_level warn "$tools"

# 2. Galaxy itself (pins of the galaxy metapackage, see .ci/galaxy/constraints.txt).
if [ ! -x "$cache/server/bin/galaxy-web" ]; then
  python3 -m venv "$cache/server"
  "$cache/server/bin/pip" install --quiet --disable-pip-version-check \
      -c "$root/.ci/galaxy/constraints.txt" "galaxy-web-apps==26.1.2"
fi

# 3. Configuration in a fresh run folder.
run="$(mktemp -d "${TMPDIR:-/tmp}/scdefer-galaxy.XXXXXX")"
mkdir -p "$run/bin" "$run/tmp" "$run/files" "$run/jobs"
ln -s "$root/.venv/bin/scdefer" "$run/bin/scdefer"
printf '<?xml version="1.0"?>\n<tables/>\n' > "$run/tool_data_table_conf.xml"
{
  echo '<?xml version="1.0"?>'
  echo '<toolbox>'
  echo '  <section id="scdefer" name="scDEFER">'
  for xml in "$tools"/scdefer_*.xml; do echo "    <tool file=\"$xml\"/>"; done
  echo '  </section>'
  echo '</toolbox>'
} > "$run/tool_conf.xml"
cat > "$run/job_conf.yml" <<YML
runners:
  local:
    load: galaxy.jobs.runners.local:LocalJobRunner
    workers: 2
execution:
  default: local
  environments:
    local:
      runner: local
YML
cat > "$run/galaxy.yml" <<YML
gravity:
  galaxy_root: $cache/server
galaxy:
  database_connection: "sqlite:///$run/galaxy.sqlite?isolation_level=IMMEDIATE"
  database_auto_migrate: true
  file_path: $run/files
  new_file_path: $run/tmp
  job_working_directory: $run/jobs
  tool_config_file: $run/tool_conf.xml
  tool_data_table_config_path: $run/tool_data_table_conf.xml
  shed_tool_config_file: ''
  tool_dependency_dir: none
  conda_auto_init: false
  conda_auto_install: false
  enable_mulled_containers: false
  enable_celery_tasks: false
  interactivetools_enable: false
  watch_tools: 'false'
  job_config_file: $run/job_conf.yml
  bootstrap_admin_api_key: $key
  admin_users: admin@example.org
  allow_user_creation: true
YML

# 4. Start the server (no foreign venv; scdefer first on PATH), wait for the API.
export TMPDIR="$run/tmp"
env -u VIRTUAL_ENV PATH="$run/bin:$cache/server/bin:/usr/local/bin:/usr/bin:/bin" \
  "$cache/server/bin/galaxy-web" -c "$run/galaxy.yml" -b "127.0.0.1:$port" \
  > "$run/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 180); do
  if curl -sf "http://127.0.0.1:$port/api/version" > /dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then tail -40 "$run/server.log"; echo "galaxy-web died"; exit 1; fi
  sleep 2
done
curl -sf "http://127.0.0.1:$port/api/version" > /dev/null || { tail -40 "$run/server.log"; echo "Galaxy did not start"; exit 1; }

# 5. Each tool's tests.
passed=0
failed=0
for xml in "$tools"/scdefer_*.xml; do
  id="$(basename "$xml" .xml)"
  report="$run/$id.json"
  "$cache/server/bin/galaxy-tool-test" -u "http://127.0.0.1:$port" -a "$key" -t "$id" \
      -j "$report" --history-per-test-case > "$run/$id.log" 2>&1 || true
  counts="$("$cache/server/bin/python" - "$report" <<'PY'
import json, sys
try:
    tests = json.load(open(sys.argv[1]))["tests"]
except (OSError, ValueError, KeyError):
    print("0 1"); sys.exit()
ok = sum(t["data"]["status"] == "success" for t in tests)
print(ok, len(tests) - ok)
PY
)"
  read -r ok bad <<< "$counts"
  echo "$id: $ok passed, $bad failed"
  if [ "$bad" != "0" ]; then tail -30 "$run/$id.log"; fi
  passed=$((passed + ok))
  failed=$((failed + bad))
done
echo "galaxy-tool-tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
