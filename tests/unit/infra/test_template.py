"""The template reader resolves what the local stack needs, and orders creation."""

import pytest

from infra.local.template import (
    CloudOnlyValue,
    ResolveContext,
    creation_order,
    load_template,
    parameter_values,
    references,
)


def context(**refs):
    ctx = ResolveContext(
        parameters={"Stage": "local", "AWS::AccountId": "123456789012", "Vpc": CloudOnlyValue("x")},
        conditions={"IsLocal": {"Fn::Equals": [{"Ref": "Stage"}, "local"]}},
    )
    ctx.refs.update(refs)
    ctx.attributes["Queue"] = {"Arn": "arn:aws:sqs:us-east-1:123456789012:q"}
    return ctx


def test_sub_resolves_parameters_pseudo_parameters_and_attributes():
    ctx = context()
    assert ctx.resolve({"Fn::Sub": "voxify-${Stage}-${AWS::AccountId}"}) == "voxify-local-123456789012"
    assert ctx.resolve({"Fn::Sub": "${Queue.Arn}/x"}) == "arn:aws:sqs:us-east-1:123456789012:q/x"
    assert ctx.resolve({"Fn::Sub": ["${A}-${Stage}", {"A": "a"}]}) == "a-local"
    assert ctx.resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_conditions_and_nested_functions():
    ctx = context(Table="t")
    assert ctx.resolve({"Fn::If": ["IsLocal", {"Ref": "Table"}, "other"]}) == "t"
    assert ctx.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-local"
    assert ctx.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b"]}]}) == "b"


def test_cloud_only_values_raise():
    with pytest.raises(CloudOnlyValue):
        context().resolve({"Ref": "Vpc"})
    with pytest.raises(CloudOnlyValue):
        context().resolve({"Fn::GetAtt": ["Cluster", "Arn"]})


def test_short_form_tags_load_as_intrinsics():
    template = load_template()
    bucket = template["Resources"]["AudioBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "voxify-${Stage}-audio-${AWS::AccountId}"}
    queue = template["Resources"]["JobsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]}


def test_creation_order_puts_dead_letter_queues_and_queues_first():
    template = load_template()
    order = creation_order(template["Resources"])
    assert order.index("JobsDeadLetterQueue") < order.index("JobsQueue")
    assert order.index("IngestQueue") < order.index("AudioBucket")
    assert order.index("EventBus") < order.index("SynthesisRequestedRule")


def test_references_and_cycles():
    assert references({"a": [{"Ref": "X"}, {"Fn::Sub": "${Y.Arn}-${Stage}"}]}) == {"X", "Y", "Stage"}
    with pytest.raises(ValueError, match="circular"):
        creation_order({"A": {"Properties": {"x": {"Ref": "B"}}}, "B": {"DependsOn": "A"}})


def test_parameters_without_default_are_cloud_only():
    values = parameter_values(load_template(), {"Stage": "local"}, {})
    assert values["Stage"] == "local"
    assert values["CorsAllowOrigins"] == ["*"]
    assert isinstance(values["VpcId"], CloudOnlyValue)
