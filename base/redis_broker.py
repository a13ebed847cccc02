"""The Redis broker transport, with one fix so that busy workers survive losing Redis.

When a kombu 5.7 Redis channel closes, it first drains its pending BRPOP. With Redis gone
that read raises a connection error and close() stops half-way, leaving the channel open.
Celery 5.7 then closes the connection once more, after detaching its transport, and the
second close() re-creates a client pool from the detached transport: AttributeError
("'NoneType' object has no attribute 'hostname'"), which is not a connection error, so the
worker exits with "Unrecoverable error" whenever Redis restarts or fails over while it
holds unacknowledged tasks (always, with acks_late). Reproduced by
tests/faults/test_broker_outage.py.

Here close() ignores connection errors while draining and, if Redis fails it later on,
still counts the channel as closed, so it is never closed twice. Nothing is lost either
way: the database keeps every explanation and the sweeper re-sends what Redis forgot.
And one saving: kombu builds a new `redis.Redis` client (copying its table of some two
hundred response callbacks) for every acknowledgement and every publish. That was 7% of a
busy llm worker's CPU (py-spy, bench/pipeline.py); a channel now keeps one client on its
connection pool and hands it out again. Clients are thread-safe wrappers around the pool
(each command takes a pooled connection), and a new pool gets a new client.

Selected by CELERY_BROKER_TRANSPORT for redis:// brokers (settings.py). Checked against
kombu 5.7.0; drop the close() fix once kombu's Channel.close() tolerates a dead connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from queue import Empty
from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:
            shared = self._shared_client = self._create_client()
        yield shared

    def close(self) -> None:
        if self._in_poll:
            try:
                self._brpop_read()
            except (Empty, *self.connection_errors):
                pass  # the pending BRPOP's reply is gone with the connection
        try:
            super().close()
        except self.connection_errors:
            self.closed = True
            raise


class Transport(redis.Transport):
    Channel = Channel
