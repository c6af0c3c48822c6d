"""The local emulator evaluates IAM policies as AWS does: explicit Deny wins, then some Allow
must match; wildcards, NotAction/NotResource and the condition operators the template uses."""

from infra.local.iam_enforcement import Check, allowed

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/voxify-local-data"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_nothing_is_allowed_without_a_matching_allow():
    assert not allowed([], Check("s3:GetObject", "arn:aws:s3:::b/k"))
    assert not allowed(
        [policy(allow("s3:GetObject", "arn:aws:s3:::b/outputs/*"))], Check("s3:GetObject", "arn:aws:s3:::b/dropbox/k")
    )
    assert allowed(
        [policy(allow("s3:GetObject", "arn:aws:s3:::b/outputs/*"))], Check("s3:GetObject", "arn:aws:s3:::b/outputs/u/k")
    )


def test_actions_match_wildcards_case_insensitively_resources_exactly():
    document = policy(allow("sqs:SendMessage*", "arn:aws:sqs:us-east-1:1:jobs"))
    assert allowed([document], Check("sqs:sendmessage", "arn:aws:sqs:us-east-1:1:jobs"))
    assert not allowed([document], Check("sqs:ReceiveMessage", "arn:aws:sqs:us-east-1:1:jobs"))
    assert not allowed([document], Check("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:jobs-dlq"))
    dotted = policy(allow("s3:GetObject", "arn:aws:s3:::b/a.b"))
    assert not allowed([dotted], Check("s3:GetObject", "arn:aws:s3:::b/axb"))  # "." is no wildcard


def test_an_explicit_deny_wins_over_any_allow():
    documents = [
        policy(allow("s3:*", "*")),
        policy({"Effect": "Deny", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/models/*"}),
    ]
    assert allowed(documents, Check("s3:PutObject", "arn:aws:s3:::b/outputs/x"))
    assert not allowed(documents, Check("s3:PutObject", "arn:aws:s3:::b/models/x"))


def test_not_action_and_not_resource():
    document = policy({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"})
    assert allowed([document], Check("s3:GetObject", "arn:aws:s3:::b/k"))
    assert not allowed([document], Check("iam:CreateUser", "*"))
    assert not allowed([document], Check("s3:GetObject", "arn:aws:s3:::secret/k"))


def test_leading_keys_limit_writes_to_the_item_types_named():
    owned = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["JOB#*", "WORKER#*"]}}
    document = policy(allow(["dynamodb:PutItem"], TABLE, Condition=owned))
    assert allowed([document], Check("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["JOB#1"]}))
    assert not allowed([document], Check("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["USER#1"]}))
    assert not allowed([document], Check("dynamodb:PutItem", TABLE, {"dynamodb:LeadingKeys": ["JOB#1", "USER#1"]}))


def test_a_condition_that_fails_makes_an_allow_not_apply_not_a_deny():
    documents = [
        policy(allow("s3:ListBucket", "arn:aws:s3:::b", Condition={"StringLike": {"s3:prefix": ["outputs/*"]}})),
        policy(allow("s3:ListBucket", "arn:aws:s3:::b")),
    ]
    assert allowed(documents, Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["dropbox/"]}))
    assert not allowed(documents[:1], Check("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ["dropbox/"]}))


def test_missing_keys_if_exists_negation_and_null():
    check = Check("s3:GetObject", "arn:aws:s3:::b/k", {"aws:SecureTransport": ["false"]})
    secure = {"Bool": {"aws:SecureTransport": "true"}}
    assert not allowed([policy(allow("s3:GetObject", "*", Condition=secure))], check)
    deny_insecure = {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": False}},
    }
    assert not allowed([policy(allow("s3:*", "*"), deny_insecure)], check)
    absent = {"StringEquals": {"aws:SourceAccount": "1"}}
    assert not allowed([policy(allow("s3:GetObject", "*", Condition=absent))], check)
    if_exists = {"StringEqualsIfExists": {"aws:SourceAccount": "1"}}
    assert allowed([policy(allow("s3:GetObject", "*", Condition=if_exists))], check)
    not_equals = {"StringNotEquals": {"aws:SourceAccount": "1"}}
    assert allowed([policy(allow("s3:GetObject", "*", Condition=not_equals))], check)
    null = {"Null": {"aws:SourceAccount": "true"}}
    assert allowed([policy(allow("s3:GetObject", "*", Condition=null))], check)
    unknown = {"NumericLessThan": {"aws:EpochTime": "1"}}
    assert not allowed([policy(allow("s3:GetObject", "*", Condition=unknown))], check)
    # an operator the emulator does not evaluate never grants, and always denies
    deny_unknown = {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": unknown}
    assert not allowed([policy(allow("s3:*", "*"), deny_unknown)], check)
