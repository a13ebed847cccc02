"""Settings of bench/api.py's server: the application's, plus a bench-only URLconf with a
minimal JSON view as the baseline. Never used outside the benchmark."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
