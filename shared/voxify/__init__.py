"""Voxify: the code shared by the Lambda functions and the inference worker."""

__version__ = "0.1.0"
