"""The capacity simulation applies the template's scaling rules as AWS does: tiny scenarios with
exact outcomes (which tasks are asked for, and when), not timings of this machine."""

from itertools import pairwise

import pytest

from bench.capacity_sim import (
    Job,
    ScalingRules,
    Simulation,
    Step,
    Timings,
    Workload,
    configure,
    day_of_jobs,
    rules_from_template,
)
from infra.local.template import load_template

RULES = ScalingRules(
    period_s=60,
    backlog_threshold=0,
    backlog_periods=1,
    steps=(Step(0, 20, 1), Step(20, 100, 2), Step(100, float("inf"), 4)),
    scale_out_cooldown_s=120,
    idle_threshold=0,
    idle_periods=15,
    scale_in_to=0,
    scale_in_cooldown_s=300,
    max_tasks=4,
    visibility_timeout_s=300,
)
# a cold start of 300 s, a warm one of 35 s, samples a minute late
SLOW = Timings(
    metric_delay_s=60,
    provider_reaction_s=60,
    instance_boot_s=90,
    agent_register_s=20,
    image_pull_s=100,
    model_load_s=30,
    placement_s=5,
    instance_idle_s=900,
)
# tasks up 10 s after they are asked for, samples seen at once
FAST = Timings(
    metric_delay_s=0,
    provider_reaction_s=0,
    instance_boot_s=0,
    agent_register_s=0,
    image_pull_s=0,
    model_load_s=10,
    placement_s=0,
    instance_idle_s=900,
)


def jobs(*arrivals: float, service_s: float = 5.0) -> list[Job]:
    return [Job(t, service_s, service_s) for t in arrivals]


def test_one_job_after_idle_waits_for_the_period_the_metric_and_a_cold_start() -> None:
    result = Simulation(RULES, SLOW).run(jobs(10.0), until_s=3600)

    assert result.records[0].start_s == 60 + 60 + SLOW.cold_start_s
    # while the first task starts, every expired cooldown adds one more: 3 tasks for 1 job;
    # then 15 idle samples (the first at 480 s), seen a minute late, scale to zero
    assert result.scale_events == [(120, 1), (240, 2), (360, 3), (480 + 14 * 60 + 60, 0)]
    assert [start.cold for start in result.starts] == [True, True, True]


def test_a_task_asked_for_while_an_instance_idles_starts_warm() -> None:
    result = Simulation(RULES, SLOW).run(jobs(10.0, 1500.0), until_s=0)

    second = result.records[1]
    assert result.starts[-1].cold is False
    assert second.start_s == 1560 + 60 + SLOW.warm_start_s
    assert len(result.instances) == 3


def test_steady_load_below_one_task_never_scales_beyond_one() -> None:
    steady = jobs(*(30.0 + 60 * k for k in range(120)), service_s=40.0)
    for gauge in ("instant", "peak"):
        result = Simulation(RULES, FAST, gauge).run(steady, until_s=0)

        assert result.scale_events == [(60, 1)], gauge
        assert max(sample.running for sample in result.samples) == 1


@pytest.mark.parametrize(("backlog", "tasks"), [(1, 1), (19, 1), (20, 2), (99, 2), (100, 4), (500, 4)])
def test_step_adjustments_bound_lower_inclusive_upper_exclusive(backlog: int, tasks: int) -> None:
    assert RULES.adjustment(backlog) == tasks
    result = Simulation(RULES, FAST).run(jobs(*[1.0] * backlog, service_s=1000.0), until_s=0)
    assert result.scale_events[0] == (60, tasks)


def test_cooldown_holds_the_same_step_then_lets_it_add_again_up_to_max_tasks() -> None:
    result = Simulation(RULES, FAST).run(jobs(*[1.0] * 30, service_s=1000.0), until_s=0)

    # 60 s: 30 waiting -> +2; 120 s: same step inside the cooldown -> nothing; 180 s: +2 -> 4 = max
    assert result.scale_events[:2] == [(60, 2), (180, 4)]
    assert max(sample.running for sample in result.samples) == RULES.max_tasks


def test_a_larger_step_inside_the_cooldown_adds_only_the_difference() -> None:
    burst = jobs(1.0, service_s=1000.0) + jobs(*[61.0] * 150, service_s=1000.0)
    result = Simulation(RULES, FAST).run(burst, until_s=0)

    # 60 s: 1 waiting -> 1; 120 s: 150 waiting, cooldown from base 0 -> 0 + 4
    assert result.scale_events[:2] == [(60, 1), (120, 4)]


def test_rules_are_read_from_the_template() -> None:
    template = load_template()
    resources = template["Resources"]
    policy = resources["WorkerScaleOutPolicy"]["Properties"]["StepScalingPolicyConfiguration"]

    rules = rules_from_template()

    assert rules.max_tasks == int(template["Parameters"]["WorkerMaxTasks"]["Default"])
    assert rules.scale_out_cooldown_s == policy["Cooldown"]
    assert len(rules.steps) == len(policy["StepAdjustments"])
    assert rules.steps[-1].adjustment == rules.max_tasks  # the last step is !Ref WorkerMaxTasks
    assert rules.idle_periods == resources["WorkerIdleAlarm"]["Properties"]["EvaluationPeriods"]
    assert rules.visibility_timeout_s == resources["JobsQueue"]["Properties"]["VisibilityTimeout"]


def test_a_day_of_load_is_the_same_for_the_same_seed() -> None:
    first = day_of_jobs(Workload(), 0.31, 0.3, seed=3)

    assert first == day_of_jobs(Workload(), 0.31, 0.3, seed=3)
    assert first != day_of_jobs(Workload(), 0.31, 0.3, seed=4)
    assert all(a.arrival_s <= b.arrival_s for a, b in pairwise(first))


def test_what_ifs_go_through_the_template_parameters_and_the_rules() -> None:
    rules, timings = configure(["WorkerMaxTasks=8", "scale_out_cooldown_s=420", "image_pull_s=60"])

    assert (rules.max_tasks, rules.steps[-1].adjustment) == (8, 8)
    assert rules.scale_out_cooldown_s == 420
    assert timings.image_pull_s == 60
    with pytest.raises(ValueError, match="Bogus"):
        configure(["Bogus=1"])
