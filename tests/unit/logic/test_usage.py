"""The per-minute limit as a rule: what a window's count allows, and how a refusal reads."""

import pytest

from voxify.errors import ErrorCode, VoxifyError
from voxify.logic.usage import RateLimitState


def test_within_the_limit_reports_what_is_left():
    state = RateLimitState(limit=100, count=40, reset_in=12)
    state.enforce()
    assert state.remaining == 60


def test_past_the_limit_is_refused_with_when_to_retry():
    state = RateLimitState(limit=100, count=101, reset_in=0)
    with pytest.raises(VoxifyError) as refused:
        state.enforce()
    assert refused.value.code == ErrorCode.RATE_LIMITED and refused.value.status_code == 429
    assert refused.value.headers["Retry-After"] == "1"  # never "0"
    assert state.remaining == 0
