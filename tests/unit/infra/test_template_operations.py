"""What the template promises operators, read from the template itself: every dead-letter
queue alarms, scaling never stops a busy worker, only Voxify speaks as `voxify`."""

from infra.local.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def of_type(kind):
    return {name: body["Properties"] for name, body in RESOURCES.items() if body["Type"] == kind}


def metric_queues(alarm):
    """(metric name, queue logical id) of each queue metric an alarm reads."""
    stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    stats += [alarm] if "MetricName" in alarm else []
    return {(s["MetricName"], s["Dimensions"][0]["Value"]["Fn::GetAtt"][0]) for s in stats}


def test_every_dead_letter_queue_has_an_alarm_and_a_consumer():
    dead_letter_queues = {name for name in of_type("AWS::SQS::Queue") if "DeadLetter" in name}
    alarmed = {queue for alarm in of_type("AWS::CloudWatch::Alarm").values() for _, queue in metric_queues(alarm)}
    consumed = {
        event["Properties"]["Queue"]["Fn::GetAtt"][0]
        for function in of_type("AWS::Serverless::Function").values()
        for event in function.get("Events", {}).values()
        if event["Type"] == "SQS"
    }
    assert len(dead_letter_queues) == 6
    assert dead_letter_queues <= alarmed and dead_letter_queues <= consumed


def test_workers_scale_in_only_when_no_work_waits_or_runs_on_either_queue():
    idle = metric_queues(RESOURCES["WorkerIdleAlarm"]["Properties"])
    assert idle == {
        (metric, queue)
        for metric in ("ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible")
        for queue in ("JobsQueue", "UploadsQueue")
    }
    scale_out = RESOURCES["WorkerScaleOutPolicy"]["Properties"]["StepScalingPolicyConfiguration"]
    assert scale_out["AdjustmentType"] == "ChangeInCapacity"  # a backlog only ever adds tasks
    task_role = RESOURCES["WorkerTaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert any("ecs:UpdateTaskProtection" in statement["Action"] for statement in task_role)


def test_only_voxify_roles_may_publish_as_voxify():
    statement = RESOURCES["EventBusSourcePolicy"]["Properties"]["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"]["StringEquals"] == {"events:source": "voxify"}
    allowed = {arn["Fn::GetAtt"][0] for arn in statement["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]}
    publishers = {
        f"{name}Role"
        for name, function in of_type("AWS::Serverless::Function").items()
        if any("EventBridgePutEventsPolicy" in policy for policy in function.get("Policies", []))
    }
    assert allowed == publishers | {"WorkerTaskRole"}
