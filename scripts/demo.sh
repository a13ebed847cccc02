#!/usr/bin/env bash
# The zero-setup demo: migrate, seed the demo school, start a real Celery worker (with the
# sweeper's beat) and the web app under ASGI. No services needed: SQLite and a broker in a
# folder unless DATABASE_URL / REDIS_URL say otherwise; offline tutor unless OPENAI_API_KEY.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
export DJANGO_SETTINGS_MODULE=config.settings

mkdir -p .demo
$PY manage.py migrate --no-input
$PY manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
$PY manage.py demo

if [ -z "${OPENAI_API_KEY:-}" ]; then
  echo "Tutor: offline provider (set OPENAI_API_KEY to use a model)."
else
  echo "Tutor: OpenAI-compatible API at ${OPENAI_BASE_URL:-api.openai.com}."
fi

.venv/bin/celery -A config worker -B -P threads -c "${DEMO_WORKER_CONCURRENCY:-8}" \
  -Q default,llm --loglevel=INFO --without-gossip --without-mingle \
  -s .demo/celerybeat-schedule > .demo/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "Worker started (pid $worker, log: .demo/worker.log)."
echo "Open http://$HOST:$PORT/ — stop with Ctrl-C."
.venv/bin/uvicorn config.asgi:application --host "$HOST" --port "$PORT"
