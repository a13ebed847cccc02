"""Scenario 5: the same task delivered more than once at the same time, to two workers;
once on Redis and once on RabbitMQ."""

from __future__ import annotations

import pytest

from tests.faults.conftest import Pipeline
from tutoring.tasks import explanation_generate

COPIES = 3  # the message from the request plus two more


def _deliver_each_task_several_times(pipeline: Pipeline, broker: str, requests: int) -> None:
    pipeline.fake.configure(latency=0.3)
    school_id = pipeline.world.school.pk
    for pk in pipeline.ask(requests, f"dup-{broker}"):
        for _ in range(COPIES - 1):
            explanation_generate.delay(school_id, pk)
    pipeline.wait_all_terminal(timeout=180)
    extra_copies = requests * (COPIES - 1)
    pipeline.wait_until(lambda: len(pipeline.workers.grep("'skipped'")) >= extra_copies, 60)

    skipped = len(pipeline.workers.grep("'skipped'"))
    summary = pipeline.summary(
        f"duplicate_delivery_{broker}",
        copies_per_task=COPIES,
        deliveries_skipped=skipped,
        provider_calls=len(pipeline.fake.chat_requests()),
    )
    pipeline.assert_exactly_once(summary)
    assert summary["succeeded"] == requests
    assert summary["provider_calls"] == requests, "one provider call per question"
    assert skipped >= extra_copies, "the extra copies found the row taken"


@pytest.mark.faults
def test_a_task_delivered_three_times_gives_one_result_and_one_charge_on_redis(pipeline):
    _deliver_each_task_several_times(pipeline, "redis", requests=60)


@pytest.mark.faults
def test_a_task_delivered_three_times_gives_one_result_and_one_charge_on_rabbitmq(
    rabbitmq_pipeline,
):
    _deliver_each_task_several_times(rabbitmq_pipeline, "rabbitmq", requests=40)
