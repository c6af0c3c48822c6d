"""Queue depth and job latency of the GPU workers over a day of bursty load.

A discrete-event model of the jobs queue and the worker service, so that how scaling follows
load can be read before it is paid for. The scaling rules (backlog and idle alarms, the step
policy and its cooldowns, WorkerMaxTasks, the queue's visibility timeout) are read from
template.yaml itself, so the model cannot drift from what is deployed; the times AWS takes to
add a task and the engine's speed are stated below with their basis (docs/capacity.md).

Run `python -m bench.capacity_sim`; it prints a table per hour of the day and a summary.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import math
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from infra.local.template import TEMPLATE_PATH, ResolveContext, load_template, parameter_values

# F5-TTS paper (arXiv:2410.06885, Table 1): RTF 0.31 at 32 NFE (Euler, sway sampling) for 10 s of
# speech on one RTX 3090; the worker samples with 32 steps. An assumption, to be replaced by the
# project's own GPU benchmark once it has run on the deployed instance type.
F5_RTF_ASSUMED = 0.31
# measured: end-to-end minus engine time of a short job (API, queue, worker, storage, events),
# `python -m bench.pipeline_overhead` on a quiet 2-core machine against the emulator
PIPELINE_OVERHEAD_S = 0.311
SECONDS_PER_HOUR = 3600.0
MAX_MANIFEST_LINES = 1000  # the drop folder's limit per manifest (docs/batches.md)


@dataclass(frozen=True)
class InstanceType:
    """A one-GPU instance that hosts one worker task; the price is on-demand Linux."""

    name: str
    gpu: str
    usd_per_hour: float


# AWS EC2 on-demand price list, Linux, us-east-1, as listed in June 2026 (unchanged since 2024)
PRICE_DATE = "2026-06"
INSTANCE_TYPES = (
    InstanceType("g5.xlarge", "NVIDIA A10G 24 GB", 1.006),
    InstanceType("g6.xlarge", "NVIDIA L4 24 GB", 0.8048),
)


@dataclass(frozen=True)
class Step:
    """One step adjustment: breach sizes in [lower, upper) add `adjustment` tasks."""

    lower: float
    upper: float
    adjustment: int


@dataclass(frozen=True)
class ScalingRules:
    """What the template's alarms and policies decide, in the units the simulation uses."""

    period_s: int
    backlog_threshold: float
    backlog_periods: int
    steps: tuple[Step, ...]
    scale_out_cooldown_s: float
    idle_threshold: float
    idle_periods: int
    scale_in_to: int
    scale_in_cooldown_s: float
    max_tasks: int
    visibility_timeout_s: int

    def adjustment(self, backlog: float) -> int:
        """Tasks the step policy adds for a backlog (lower bound inclusive, upper exclusive)."""
        breach = backlog - self.backlog_threshold
        return next((step.adjustment for step in self.steps if step.lower <= breach < step.upper), 0)


@dataclass(frozen=True)
class Timings:
    """Seconds AWS takes between a scaling decision and a task taking work (basis: docs/capacity.md)."""

    metric_delay_s: float = 60.0  # SQS pushes its metrics to CloudWatch at one-minute intervals
    provider_reaction_s: float = 60.0  # ECS managed scaling: CapacityProviderReservation, 1-min alarm
    instance_boot_s: float = 90.0  # EC2 pending to running, then the ECS GPU AMI boots
    agent_register_s: float = 20.0  # the ECS agent registers the instance; the task is placed
    image_pull_s: float = 150.0  # about 11 GB of layers extracted onto gp3 (125 MiB/s baseline)
    model_load_s: float = 30.0  # checkpoint from S3 onto the GPU, CUDA context, first pass
    placement_s: float = 5.0  # a task placed on an instance already in the cluster, image cached
    instance_idle_s: float = 900.0  # managed scaling removes an unused instance after 15 minutes

    @property
    def cold_start_s(self) -> float:
        """From the desired count rising to a task consuming, when no instance is free."""
        steps = (self.provider_reaction_s, self.instance_boot_s, self.agent_register_s, self.image_pull_s)
        return sum(steps) + self.model_load_s

    @property
    def warm_start_s(self) -> float:
        """The same on an instance that is still in the cluster with the image cached."""
        return self.placement_s + self.model_load_s


@dataclass(frozen=True)
class Job:
    arrival_s: float
    audio_s: float
    service_s: float


@dataclass(frozen=True)
class JobRecord:
    job: Job
    start_s: float
    end_s: float

    @property
    def wait_s(self) -> float:
        return self.start_s - self.job.arrival_s


@dataclass(frozen=True)
class Sample:
    """The queue's gauges at one period boundary, as CloudWatch would receive them."""

    time_s: float
    visible: int
    work: int  # visible + in flight
    running: int  # tasks that have started and take work


@dataclass(frozen=True)
class TaskStart:
    requested_s: float
    ready_s: float
    cold: bool


@dataclass
class Instance:
    launched_s: float  # billing starts
    hosts_from_s: float  # registered in the cluster with the image pulled
    idle_since: float | None = None  # None while it hosts a task
    terminated_s: float | None = None

    def billed_s(self, end_s: float) -> float:
        return max(0.0, (self.terminated_s if self.terminated_s is not None else end_s) - self.launched_s)


@dataclass
class Task:
    instance: Instance
    requested_s: float
    cold: bool
    state: str = "starting"  # starting | idle | busy | stopping (protected while busy) | stopped


@dataclass
class Result:
    """Everything the report reads: per job, per sample, per task start, per instance."""

    rules: ScalingRules
    timings: Timings
    end_s: float
    records: list[JobRecord]
    samples: list[Sample]
    starts: list[TaskStart]
    instances: list[Instance]
    peak_queue_by_hour: dict[int, int]
    scale_events: list[tuple[float, int]]  # (time, new desired count)

    @property
    def instance_hours(self) -> float:
        return sum(instance.billed_s(self.end_s) for instance in self.instances) / SECONDS_PER_HOUR

    @property
    def task_hours(self) -> float:
        return sum(sample.running for sample in self.samples) * self.rules.period_s / SECONDS_PER_HOUR


_DONE, _READY, _TICK, _ARRIVE = range(4)  # order of events that fall on the same instant


@dataclass
class Simulation:
    """The jobs queue, the worker tasks and the two alarms with their policies."""

    rules: ScalingRules
    timings: Timings
    gauge: str = "instant"  # how a period's Maximum sees the queue: "instant" (its last sample) or "peak"
    now: float = 0.0
    desired: int = 0
    queue: deque[Job] = field(default_factory=deque)
    tasks: list[Task] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    records: list[JobRecord] = field(default_factory=list)
    starts: list[TaskStart] = field(default_factory=list)
    peak_queue_by_hour: dict[int, int] = field(default_factory=dict)
    scale_events: list[tuple[float, int]] = field(default_factory=list)
    cooldown_until: float = -math.inf
    cooldown_base: int = 0
    scale_in_until: float = -math.inf
    _peak: tuple[int, int] = (0, 0)  # most visible, most work since the last sample
    _events: list[tuple[float, int, int, Any]] = field(default_factory=list)
    _order: Iterator[int] = field(default_factory=itertools.count)

    def run(self, jobs: Sequence[Job], until_s: float) -> Result:
        """Play the jobs, then keep the clock running until `until_s` and every job is done."""
        for job in jobs:
            self._push(job.arrival_s, _ARRIVE, job)
        self._push(self.rules.period_s, _TICK, None)
        handlers: dict[int, Callable[[Any], None]] = {
            _DONE: self._done,
            _READY: self._ready,
            _TICK: self._tick,
            _ARRIVE: self._arrive,
        }
        while self._events:
            self.now, kind, _, payload = heapq.heappop(self._events)
            if kind == _TICK and self.now > until_s and self._settled(len(jobs)):
                break
            handlers[kind](payload)
        return Result(
            self.rules,
            self.timings,
            self.now,
            self.records,
            self.samples,
            self.starts,
            self.instances,
            self.peak_queue_by_hour,
            self.scale_events,
        )

    def _settled(self, jobs: int) -> bool:
        """Every job has been taken and finished."""
        return len(self.records) == jobs and not any(task.state in ("busy", "stopping") for task in self.tasks)

    def _push(self, time_s: float, kind: int, payload: Any) -> None:
        heapq.heappush(self._events, (time_s, kind, next(self._order), payload))

    # --- work
    def _arrive(self, job: Job) -> None:
        self.queue.append(job)
        self._dispatch()
        # only an arrival raises the gauges; a job taken at once is never seen waiting
        hour = int(self.now // SECONDS_PER_HOUR)
        self.peak_queue_by_hour[hour] = max(self.peak_queue_by_hour.get(hour, 0), len(self.queue))
        self._note_peak()

    def _gauges(self) -> tuple[int, int]:
        """(visible, work) now: work is what waits plus what tasks hold."""
        busy = sum(task.state in ("busy", "stopping") for task in self.tasks)
        return len(self.queue), len(self.queue) + busy

    def _note_peak(self) -> None:
        visible, work = self._gauges()
        self._peak = (max(self._peak[0], visible), max(self._peak[1], work))

    def _dispatch(self) -> None:
        """Long-polling idle tasks take waiting jobs at once, oldest first."""
        for task in self.tasks:
            if not self.queue:
                return
            if task.state == "idle":
                job = self.queue.popleft()
                task.state = "busy"
                self.records.append(JobRecord(job, self.now, self.now + job.service_s))
                self._push(self.now + job.service_s, _DONE, task)

    def _done(self, task: Task) -> None:
        if task.state == "stopping":
            self._remove(task)
        else:
            task.state = "idle"
        self._dispatch()

    def _ready(self, task: Task) -> None:
        if task.state != "starting":
            return  # stopped before it came up
        task.state = "idle"
        self.starts.append(TaskStart(task.requested_s, self.now, task.cold))
        self._dispatch()

    # --- scaling
    def _tick(self, _: Any) -> None:
        visible, work = self._peak if self.gauge == "peak" else self._gauges()
        running = sum(task.state in ("idle", "busy", "stopping") for task in self.tasks)
        self.samples.append(Sample(self.now, visible, work, running))
        self._peak = self._gauges()
        seen = self._seen()
        if self._backlog_alarm(seen):
            self._scale_out(seen[-1].visible)
        elif self._idle_alarm(seen):
            self._scale_in()
        self._reconcile()
        self._retire_idle_instances()
        self._push(self.now + self.rules.period_s, _TICK, None)

    def _seen(self) -> list[Sample]:
        """The samples CloudWatch holds now: the latest ones are still on their way."""
        late = round(self.timings.metric_delay_s / self.rules.period_s)
        return self.samples[: len(self.samples) - late]

    def _backlog_alarm(self, seen: list[Sample]) -> bool:
        """Missing data is not breaching: no samples yet, no alarm."""
        latest = seen[-self.rules.backlog_periods :]
        return len(latest) == self.rules.backlog_periods and all(
            s.visible > self.rules.backlog_threshold for s in latest
        )

    def _idle_alarm(self, seen: list[Sample]) -> bool:
        """Missing data is breaching: a period without samples counts as idle."""
        return all(s.work <= self.rules.idle_threshold for s in seen[-self.rules.idle_periods :])

    def _scale_out(self, backlog: int) -> None:
        """Step scaling: during the cooldown only a larger step adds, counted from the base the
        cooldown started from (Application Auto Scaling's rule); alarms re-invoke every period."""
        adjustment = self.rules.adjustment(backlog)
        in_cooldown = self.now < self.cooldown_until
        base = self.cooldown_base if in_cooldown else self.desired
        target = min(self.rules.max_tasks, base + adjustment)
        if target <= self.desired:
            return
        if not in_cooldown:
            self.cooldown_base = self.desired
            self.cooldown_until = self.now + self.rules.scale_out_cooldown_s
        self._set_desired(target)

    def _scale_in(self) -> None:
        if self.now < self.scale_in_until or self.desired <= self.rules.scale_in_to:
            return
        self.scale_in_until = self.now + self.rules.scale_in_cooldown_s
        self._set_desired(self.rules.scale_in_to)

    def _set_desired(self, count: int) -> None:
        self.desired = count
        self.scale_events.append((self.now, count))

    def _reconcile(self) -> None:
        """ECS starts or stops tasks until the service matches its desired count; a busy task is
        protected from scale-in and stops when its job is done."""
        active = [task for task in self.tasks if task.state in ("starting", "idle", "busy")]
        for _ in range(self.desired - len(active)):
            self._start_task()
        surplus = len(active) - self.desired
        for task in sorted(active, key=lambda t: t.state == "busy")[: max(0, surplus)]:
            if task.state == "busy":
                task.state = "stopping"
            else:
                self._remove(task)

    def _start_task(self) -> None:
        """On a free instance if one is left in the cluster, else on a new one."""
        timings = self.timings
        instance = next((i for i in self.instances if i.idle_since is not None and i.terminated_s is None), None)
        cold = instance is None
        if instance is None:
            instance = Instance(
                self.now + timings.provider_reaction_s, self.now + timings.cold_start_s - timings.model_load_s
            )
            self.instances.append(instance)
        instance.idle_since = None
        task = Task(instance, self.now, cold)
        self.tasks.append(task)
        placed = self.now + (0.0 if cold else timings.placement_s)
        self._push(max(placed, instance.hosts_from_s) + timings.model_load_s, _READY, task)

    def _remove(self, task: Task) -> None:
        task.state = "stopped"
        task.instance.idle_since = self.now
        self.tasks.remove(task)

    def _retire_idle_instances(self) -> None:
        for instance in self.instances:
            idle = instance.idle_since is not None and instance.terminated_s is None
            if idle and self.now - max(instance.idle_since or 0.0, instance.launched_s) >= self.timings.instance_idle_s:
                instance.terminated_s = self.now


# --- reading the template


def rules_from_template(path: Path = TEMPLATE_PATH, parameters: Mapping[str, str] | None = None) -> ScalingRules:
    """The worker's scaling rules as template.yaml deploys them with these parameters (else defaults)."""
    template = load_template(path)
    unknown = set(parameters or {}) - set(template["Parameters"])
    if unknown:
        raise ValueError(f"not parameters of the template: {sorted(unknown)}")
    values = parameter_values(template, parameters or {}, {})
    context = ResolveContext(parameters=values, conditions=template.get("Conditions", {}))
    resources = template["Resources"]

    def properties(name: str) -> Mapping[str, Any]:
        return resources[name]["Properties"]

    backlog, idle = properties("WorkerBacklogAlarm"), properties("WorkerIdleAlarm")
    _expect(backlog, "ComparisonOperator", "GreaterThanThreshold")
    _expect(idle, "ComparisonOperator", "LessThanOrEqualToThreshold")
    scale_out = properties("WorkerScaleOutPolicy")["StepScalingPolicyConfiguration"]
    scale_in = properties("WorkerScaleInPolicy")["StepScalingPolicyConfiguration"]
    _expect(scale_out, "AdjustmentType", "ChangeInCapacity")
    _expect(scale_in, "AdjustmentType", "ExactCapacity")
    return ScalingRules(
        period_s=_period(backlog),
        backlog_threshold=float(backlog["Threshold"]),
        backlog_periods=int(backlog["EvaluationPeriods"]),
        steps=tuple(_step(context.resolve(step)) for step in scale_out["StepAdjustments"]),
        scale_out_cooldown_s=float(scale_out["Cooldown"]),
        idle_threshold=float(idle["Threshold"]),
        idle_periods=int(idle["EvaluationPeriods"]) * _period(idle) // _period(backlog),
        scale_in_to=int(scale_in["StepAdjustments"][0]["ScalingAdjustment"]),
        scale_in_cooldown_s=float(scale_in["Cooldown"]),
        max_tasks=int(context.resolve(properties("WorkerScalableTarget")["MaxCapacity"])),
        visibility_timeout_s=int(properties("JobsQueue")["VisibilityTimeout"]),
    )


def _expect(properties: Mapping[str, Any], key: str, value: str) -> None:
    """The model implements one meaning of each rule; a changed rule must change the model."""
    if properties[key] != value:
        raise ValueError(f"{key} is {properties[key]!r}; the simulation models {value!r}")


def _period(alarm: Mapping[str, Any]) -> int:
    return min(int(metric["MetricStat"]["Period"]) for metric in alarm["Metrics"] if "MetricStat" in metric)


def _step(step: Mapping[str, Any]) -> Step:
    return Step(
        float(step.get("MetricIntervalLowerBound", -math.inf)),
        float(step.get("MetricIntervalUpperBound", math.inf)),
        int(step["ScalingAdjustment"]),
    )


# --- a day of load


@dataclass(frozen=True)
class Workload:
    """Interactive jobs on a daytime curve, plus drop-folder manifests that arrive at once."""

    peak_jobs_per_hour: float = 600.0
    peak_hour: float = 14.0  # a cos² curve around it, zero at 06:00 and 22:00
    night_jobs_per_hour: float = 2.0
    job_median_audio_s: float = 12.0  # a sentence or two; lognormal, sigma below
    job_sigma: float = 0.9
    bursts_per_day: float = 6.0
    burst_median_lines: float = 150.0
    line_median_audio_s: float = 8.0
    fan_out_s: float = 10.0  # the drop-folder function enqueues a manifest's lines within seconds

    def rate(self, hour: float) -> float:
        """Jobs per hour at a time of day."""
        shape = max(0.0, math.cos(math.pi * (hour - self.peak_hour) / 16.0)) ** 2
        return self.night_jobs_per_hour + (self.peak_jobs_per_hour - self.night_jobs_per_hour) * shape


def day_of_jobs(workload: Workload, seconds_per_audio_s: float, overhead_s: float, seed: int) -> list[Job]:
    """Deterministic for a seed: arrivals (interactive and bursts) with their audio lengths."""
    rng = np.random.default_rng(seed)
    arrivals, audio = _interactive(workload, rng)
    burst_arrivals, burst_audio = _bursts(workload, rng)
    times = np.concatenate([arrivals, burst_arrivals])
    lengths = np.clip(np.concatenate([audio, burst_audio]), 1.0, 1200.0)
    order = np.argsort(times, kind="stable")
    return [
        Job(float(times[i]), float(lengths[i]), overhead_s + seconds_per_audio_s * float(lengths[i])) for i in order
    ]


def _interactive(workload: Workload, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    minutes = np.arange(24 * 60)
    counts = rng.poisson([workload.rate(m / 60.0) / 60.0 for m in minutes])
    starts = np.repeat(minutes * 60.0, counts)
    times = starts + rng.uniform(0.0, 60.0, starts.size)
    audio = rng.lognormal(math.log(workload.job_median_audio_s), workload.job_sigma, times.size)
    return times, audio


def _bursts(workload: Workload, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    count = rng.poisson(workload.bursts_per_day)
    starts = rng.uniform(8 * SECONDS_PER_HOUR, 20 * SECONDS_PER_HOUR, count)
    sizes = rng.lognormal(math.log(workload.burst_median_lines), 0.6, count).astype(int).clip(1, MAX_MANIFEST_LINES)
    times = np.repeat(starts, sizes) + rng.uniform(0.0, workload.fan_out_s, int(sizes.sum()))
    audio = rng.lognormal(math.log(workload.line_median_audio_s), 0.5, times.size)
    return times, audio


# --- report


def hourly_rows(result: Result) -> list[tuple[int, int, float, int, float, float, float, int]]:
    """Per hour of arrival: jobs, audio minutes, peak queue, p50/p95 wait, mean/max tasks."""
    rows = []
    for hour in range(24):
        records = [r for r in result.records if int(r.job.arrival_s // SECONDS_PER_HOUR) == hour]
        waits = [r.wait_s for r in records] or [0.0]
        running = [s.running for s in result.samples if int((s.time_s - 1) // SECONDS_PER_HOUR) == hour] or [0]
        rows.append(
            (
                hour,
                len(records),
                sum(r.job.audio_s for r in records) / 60.0,
                result.peak_queue_by_hour.get(hour, 0),
                float(np.percentile(waits, 50)),
                float(np.percentile(waits, 95)),
                float(np.mean(running)),
                max(running),
            )
        )
    return rows


@dataclass(frozen=True)
class Episode:
    """A run of jobs that waited longer than the threshold, with what the service had then."""

    start_s: float
    jobs: int
    max_wait_s: float
    cause: str


def lag_episodes(result: Result, threshold_s: float = 60.0) -> list[Episode]:
    """Group consecutive (by arrival) jobs that waited over `threshold_s`."""
    episodes: list[list[JobRecord]] = []
    current: list[JobRecord] = []
    for record in sorted(result.records, key=lambda r: r.job.arrival_s):
        if record.wait_s > threshold_s:
            current.append(record)
        elif current:
            episodes.append(current)
            current = []
    if current:
        episodes.append(current)
    return [_episode(result, group) for group in episodes]


def _episode(result: Result, group: list[JobRecord]) -> Episode:
    """Name the cause from what ran: nothing (a start from zero), every task allowed, or fewer."""
    start = group[0].job.arrival_s
    before = [s for s in result.samples if s.time_s <= start]
    running = before[-1].running if before else 0
    if running == 0:
        cause = "scale from zero"
    elif max((s.running for s in result.samples if start <= s.time_s <= group[-1].start_s), default=0) >= (
        result.rules.max_tasks
    ):
        cause = "WorkerMaxTasks reached"
    else:
        cause = "steps and cooldown"
    return Episode(start, len(group), max(r.wait_s for r in group), cause)


def clock(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def print_report(result: Result, rtf: float, overhead_s: float) -> None:
    """The inputs first, so that a figure is never read without what it rests on."""
    print_assumptions(result, rtf, overhead_s)
    print_hours(result)
    print_summary(result)


def print_assumptions(result: Result, rtf: float, overhead_s: float) -> None:
    rules, timings = result.rules, result.timings
    steps = ", ".join(
        f"[{s.lower:g},{'' if math.isinf(s.upper) else f'{s.upper:g}'})→+{s.adjustment}" for s in rules.steps
    )
    print("from template.yaml:")
    print(
        f"  backlog alarm: visible > {rules.backlog_threshold:g} for {rules.backlog_periods} x {rules.period_s} s; "
        f"steps {steps}; cooldown {rules.scale_out_cooldown_s:g} s"
    )
    print(
        f"  idle alarm: work <= {rules.idle_threshold:g} for {rules.idle_periods} x {rules.period_s} s "
        f"-> {rules.scale_in_to} tasks; cooldown {rules.scale_in_cooldown_s:g} s; "
        f"WorkerMaxTasks {rules.max_tasks}; jobs visibility timeout {rules.visibility_timeout_s} s"
    )
    print("assumed:")
    print(
        f"  engine RTF {rtf:g} + {overhead_s * 1000:.0f} ms per job; metric delay {timings.metric_delay_s:g} s; "
        f"task start cold {timings.cold_start_s:g} s / warm {timings.warm_start_s:g} s; "
        f"idle instance kept {timings.instance_idle_s:g} s"
    )


def print_hours(result: Result) -> None:
    print(
        f"\n{'hour':>4} {'jobs':>6} {'audio min':>9} {'peak queue':>10} {'p50 wait':>9} {'p95 wait':>9}  tasks avg/max"
    )
    for hour, jobs, audio, peak, p50, p95, mean_tasks, max_tasks in hourly_rows(result):
        print(
            f"{hour:>4} {jobs:>6} {audio:>9.1f} {peak:>10} {p50:>8.0f}s {p95:>8.0f}s {mean_tasks:>5.1f}/{max_tasks:<4}"
        )


def print_summary(result: Result) -> None:
    """Throughput per task, waits, where they come from, and what the day cost per hour of audio."""
    waits = np.array([r.wait_s for r in result.records])
    audio_h = sum(r.job.audio_s for r in result.records) / SECONDS_PER_HOUR
    busy_h = sum(r.job.service_s for r in result.records) / SECONDS_PER_HOUR
    mean_service = busy_h * SECONDS_PER_HOUR / len(result.records)
    print(f"\nsummary: {len(result.records)} jobs, {audio_h:.2f} h of audio")
    print(
        f"  per task: mean job {mean_service:.1f} s -> {SECONDS_PER_HOUR / mean_service:.0f} jobs/h, "
        f"{audio_h / busy_h:.1f} h of audio per busy task-hour"
    )
    print(
        f"  wait p50 {np.percentile(waits, 50):.1f} s, p95 {np.percentile(waits, 95):.0f} s, "
        f"p99 {np.percentile(waits, 99):.0f} s, max {waits.max():.0f} s"
    )
    print_starts(result)
    print_lags(result)
    print(
        f"  task-hours {result.task_hours:.1f} (busy {busy_h:.1f}, utilisation {busy_h / result.task_hours:.0%}), "
        f"instance-hours {result.instance_hours:.1f}"
    )
    for kind in INSTANCE_TYPES:
        cost = result.instance_hours * kind.usd_per_hour
        print(
            f"  {kind.name} ({kind.gpu}) ${kind.usd_per_hour:.4g}/h ({PRICE_DATE}): day ${cost:.2f}, "
            f"${cost / audio_h:.3f} per hour of audio (all instance time busy: "
            f"${kind.usd_per_hour * busy_h / audio_h:.3f})"
        )


def print_starts(result: Result) -> None:
    """Cold starts and wake-ups for a handful of jobs are where the idle cost comes from."""
    cold = [s.ready_s - s.requested_s for s in result.starts if s.cold]
    long_jobs = sum(r.job.service_s > result.rules.visibility_timeout_s for r in result.records)
    print(
        f"  task starts: {len(cold)} cold ({max(cold, default=0):.0f} s), {len(result.starts) - len(cold)} warm; "
        f"{len(result.scale_events)} scaling actions; jobs outliving the visibility timeout: {long_jobs}"
    )
    small = [(jobs, peak) for jobs, peak in wake_ups(result) if jobs <= 10]
    if small:
        print(
            f"  {len(small)} wake-ups from zero for 10 jobs or fewer: {sum(j for j, _ in small)} jobs, "
            f"up to {max(p for _, p in small)} tasks each (median {np.median([p for _, p in small]):.0f})"
        )


def wake_ups(result: Result) -> list[tuple[int, int]]:
    """Each stretch from a scale-out from zero to the next scale to zero: (jobs in it, most tasks)."""
    stretches: list[tuple[float, int]] = []  # (end, most tasks); the end is inf while open
    for time_s, desired in result.scale_events:
        if stretches and stretches[-1][0] == math.inf:
            stretches[-1] = (time_s if desired == 0 else math.inf, max(stretches[-1][1], desired))
        elif desired > 0:
            stretches.append((math.inf, desired))
    arrivals = np.array([r.job.arrival_s for r in result.records])
    edges = [0.0, *(end for end, _ in stretches)]
    return [
        (int(((edges[i] <= arrivals) & (arrivals < edges[i + 1])).sum()), peak) for i, (_, peak) in enumerate(stretches)
    ]


def print_lags(result: Result) -> None:
    episodes = lag_episodes(result)
    print(f"  where scaling lags ({len(episodes)} runs of jobs waiting over 60 s):")
    for cause in sorted({e.cause for e in episodes}):
        group = [e for e in episodes if e.cause == cause]
        worst = max(group, key=lambda e: e.max_wait_s)
        print(
            f"    {cause:<22} {len(group):>3} runs, {sum(e.jobs for e in group):>4} jobs; "
            f"worst at {clock(worst.start_s)}: {worst.jobs} jobs, max wait {worst.max_wait_s:.0f} s"
        )


def configure(settings: Sequence[str]) -> tuple[ScalingRules, Timings]:
    """The template's rules and the default timings, with NAME=VALUE what-ifs applied: a template
    parameter (WorkerMaxTasks=8), a rule (scale_out_cooldown_s=420) or a timing (image_pull_s=60)."""
    parameters: dict[str, str] = {}
    rule_changes: dict[str, float] = {}
    timing_changes: dict[str, float] = {}
    for setting in settings:
        name, _, value = setting.partition("=")
        if name in Timings.__dataclass_fields__:
            timing_changes[name] = float(value)
        elif name in ScalingRules.__dataclass_fields__ and name != "steps":
            rule_changes[name] = float(value)
        else:
            parameters[name] = value
    rules = rules_from_template(parameters=parameters)
    rules = replace(rules, **{name: type(getattr(rules, name))(value) for name, value in rule_changes.items()})
    return rules, replace(Timings(), **timing_changes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rtf", type=float, default=F5_RTF_ASSUMED, help="engine seconds per second of audio")
    parser.add_argument(
        "--overhead", type=float, default=PIPELINE_OVERHEAD_S, help="seconds per job besides the engine"
    )
    parser.add_argument("--peak", type=float, default=Workload.peak_jobs_per_hour, help="interactive jobs/h at peak")
    parser.add_argument("--gauge", choices=("instant", "peak"), default="instant", help="what a period's Maximum sees")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="what-if: see configure()")
    args = parser.parse_args()
    jobs = day_of_jobs(Workload(peak_jobs_per_hour=args.peak), args.rtf, args.overhead, args.seed)
    rules, timings = configure(args.set)
    result = Simulation(rules, timings, args.gauge).run(jobs, until_s=24 * SECONDS_PER_HOUR)
    print_report(result, args.rtf, args.overhead)


if __name__ == "__main__":
    main()
