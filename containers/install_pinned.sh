#!/bin/sh
# Install the pins of /opt/scdefer/requirements.lock whose names match an extended regex ('.*':
# all of them) and not the optional second one, without resolving dependencies: the lock pins
# every one. Installed files are made readable by any UID (the image runs under arbitrary ones).
# The Dockerfile calls it once per venv layer; pins already installed by an earlier layer are
# skipped.
#   install_pinned.sh 'nvidia-cudnn-.*'
#   install_pinned.sh '.*' '(torch|triton|nvidia-.*)'
set -eu
grep -E "^($1)==" /opt/scdefer/requirements.lock | grep -vE "^(${2:-})==" > /tmp/pins.txt \
    || { echo "install_pinned: no pin matches '$1'${2:+ but not '$2'}" >&2; exit 1; }
echo "install_pinned: $(wc -l < /tmp/pins.txt) pins matching '$1'${2:+, not '$2'}"
/opt/venv/bin/pip install --no-cache-dir --no-deps --disable-pip-version-check -r /tmp/pins.txt
# Only what lacks the permissions is touched: a chmod of every file would copy the earlier
# layers' files into this one.
find /opt/venv \( ! -perm -a+r -o -type d ! -perm -a+x \) -exec chmod a+rX {} +
