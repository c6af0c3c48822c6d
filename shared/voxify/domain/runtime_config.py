"""Limits and defaults an administrator can change while the service runs."""

from typing import Literal

from pydantic import BaseModel, Field

EngineChoice = Literal["auto", "f5tts", "vits", "formant"]
QuotaKind = Literal["sample", "job", "search", "detection", "verification"]


class RuntimeConfig(BaseModel):
    rate_limit_per_minute: int
    daily_sample_quota: int
    daily_search_quota: int
    daily_job_quota: int
    daily_detection_quota: int
    daily_verification_quota: int
    default_engine: EngineChoice
    # Every output carries the watermark unless an administrator turns this off (logged);
    # no environment variable can.
    watermark_outputs: bool = True

    def daily_quota(self, kind: QuotaKind) -> int:
        quotas = {
            "sample": self.daily_sample_quota,
            "job": self.daily_job_quota,
            "search": self.daily_search_quota,
            "detection": self.daily_detection_quota,
            "verification": self.daily_verification_quota,
        }
        return quotas[kind]


class ConfigUpdate(BaseModel):
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    daily_sample_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_search_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_job_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_detection_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    daily_verification_quota: int | None = Field(default=None, ge=1, le=1_000_000)
    default_engine: EngineChoice | None = None
    watermark_outputs: bool | None = Field(default=None, description="false leaves new outputs unmarked; logged")
