"""Scenario 4: PostgreSQL goes away under running workers, several times.

Simulated by terminating every worker connection to the test database, over and over for
a second at a time (`pg_terminate_backend`, see ConnectionKiller): the machine's PostgreSQL
cluster is shared with other test runs, so it cannot be restarted. To a worker it looks
like a restart: connections die mid-transaction or idle in the pool, and connections
opened while it is "down" die too.
"""

from __future__ import annotations

import threading

import pytest

from tests.faults.conftest import connection_killer

REQUESTS = 150
RESTARTS = 4


@pytest.mark.faults
def test_workers_reconnect_after_the_database_drops_their_connections(pipeline):
    killer = connection_killer(pipeline, restarts=RESTARTS, down_seconds=1.0, up_seconds=3.0)
    asking = threading.Thread(target=pipeline.ask, args=(REQUESTS, "pgkill"))
    asking.start()
    pipeline.wait_until(lambda: pipeline.count(status="running") >= 5, 60)
    killer.start()
    asking.join()
    killer.join(120)
    pipeline.wait_all_terminal(timeout=240)

    summary = pipeline.summary(
        "postgres_restarts",
        simulated_restarts=killer.restarts,
        connections_killed=killer.terminated,
        provider_calls=len(pipeline.fake.chat_requests()),
    )
    pipeline.assert_exactly_once(summary)
    assert summary["succeeded"] == REQUESTS
    assert killer.restarts == RESTARTS and killer.terminated > 0
    assert all(pipeline.workers.alive())
