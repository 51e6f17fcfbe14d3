#!/usr/bin/env bash
# `make run`: the site on http://127.0.0.1:8000/ with DEBUG, SQLite and local files, and
# the django-tasks-db worker and the scheduler (every clock: outbox sweep, deadlines, cleanup)
# in the background, both stopped by PID when runserver ends.
set -euo pipefail
cd "$(dirname "$0")/.."

export DJANGO_DEBUG=1
export DJANGO_SECURE_COOKIES=0
export DJANGO_SECURE_SSL_REDIRECT=0
export DATABASE_URL="sqlite:///$PWD/db.sqlite3"
# Local files, not S3, whatever the calling shell has set.
unset AWS_STORAGE_BUCKET_NAME AWS_S3_ENDPOINT_URL
PY=.venv/bin/python

"$PY" manage.py migrate --noinput

if [ -d locale ] && [ -n "$(find locale -name '*.po' -print -quit)" ] && command -v msgfmt >/dev/null; then
    "$PY" manage.py compilemessages --ignore=.venv --ignore='.venv/*' -v 0
fi

"$PY" manage.py seed_demo

# --no-reload: with the autoreloader the PID would be the reloader's, and its child
# would outlive a kill. Restart `make run` after changing task code.
"$PY" manage.py db_worker --no-reload &
worker=$!
"$PY" manage.py scheduler &
scheduler=$!
stop_background() {
    for pid in "$scheduler" "$worker"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
        fi
    done
    wait "$scheduler" "$worker" 2>/dev/null || true
}
trap stop_background EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$PY" manage.py runserver 127.0.0.1:8000
