"""The embedded AWS emulator: moto in server mode on loopback, enforcing IAM.

Port 4566 is LocalStack's, so `awslocal`, `localstack-client` and `AWS_ENDPOINT_URL`
clients work unchanged against either. Every request is checked against the policies of the
principal that signed it (see `iam_enforcement`); the fake credentials below are the
operator's, the account's root, and each component of the stack runs with its own role.
"""

from __future__ import annotations

import logging
import os
import socket
import urllib.error
import urllib.request

from moto.server import ThreadedMotoServer

from infra.local import iam_enforcement

DEFAULT_PORT = 4566
# The operator's credentials: the account's root in the embedded emulator (any emulator takes
# them); they also keep botocore from searching the machine (and from ever reaching a real
# account by accident).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def use_fake_credentials(region: str = "us-east-1") -> None:
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    os.environ.setdefault("AWS_REGION", os.environ["AWS_DEFAULT_REGION"])


def endpoint_is_up(url: str, timeout: float = 1.0) -> bool:
    """True when something that answers HTTP listens at `url` (moto or LocalStack)."""
    try:
        urllib.request.urlopen(url, timeout=timeout)  # loopback endpoint
    except urllib.error.HTTPError:
        return True  # it answered, even if with an error status
    except (urllib.error.URLError, OSError):
        return False
    return True


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((host, port)) != 0


class EmbeddedEmulator:
    """A moto server thread bound to 127.0.0.1; with `enforce_iam` (the default) requests are
    allowed or refused by IAM policy, as in AWS."""

    def __init__(self, port: int = DEFAULT_PORT, enforce_iam: bool = True) -> None:
        self.port = port
        self.enforce_iam = enforce_iam
        self.url = f"http://127.0.0.1:{port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    def start(self) -> None:
        if not port_is_free(self.port):
            raise RuntimeError(
                f"port {self.port} is taken; stop what listens there, or point "
                "AWS_ENDPOINT_URL at it if it is an emulator you want to use"
            )
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if self.enforce_iam:
            iam_enforcement.enable()
        else:
            iam_enforcement.disable()
        self._server.start()

    def stop(self) -> None:
        self._server.stop()
