"""A task holding work is protected from scale-in through the ECS agent, and only then."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3

from voxify.queue import WorkMessage
from voxify_worker.runtime.consumer import WorkConsumer
from voxify_worker.runtime.protection import ScaleInProtection


class Agent:
    """The ECS agent's task-protection endpoint on loopback, recording each state asked for."""

    def __init__(self) -> None:
        self.states: list[dict] = []
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                assert self.path == "/v1/task-protection/v1/state"
                agent.states.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_protected_from_the_first_work_in_hand_until_the_last_ends():
    agent = Agent()
    protection = ScaleInProtection(agent.uri, minutes=30)
    with protection.held():
        with protection.held():  # a second consumer thread takes work meanwhile
            assert agent.states == [{"ProtectionEnabled": True, "ExpiresInMinutes": 30}]
        assert len(agent.states) == 1
    assert agent.states[-1] == {"ProtectionEnabled": False}
    try:
        with protection.held():
            raise RuntimeError("the work failed")
    except RuntimeError:
        pass
    assert [s["ProtectionEnabled"] for s in agent.states] == [True, False, True, False]


def test_work_goes_on_when_the_agent_cannot_be_reached_or_is_absent():
    done = []
    for protection in (ScaleInProtection("http://127.0.0.1:9"), ScaleInProtection(None)):
        with protection.held():
            done.append(True)
    assert done == [True, True]


def test_the_consumer_holds_protection_while_a_handler_runs(stack, emulator_endpoint):
    _, resources = stack
    sqs = boto3.client("sqs", endpoint_url=emulator_endpoint)
    url = resources.environment["VOXIFY_JOBS_QUEUE_URL"]
    agent = Agent()
    seen_during_work = []
    consumer = WorkConsumer(
        sqs,
        [url],
        {"synthesis": lambda work, delivery: seen_during_work.append(list(agent.states))},
        wait_seconds=0,
        protection=ScaleInProtection(agent.uri),
    )
    sqs.send_message(QueueUrl=url, MessageBody=WorkMessage(kind="synthesis", id="job-1").model_dump_json())
    (message,) = sqs.receive_message(QueueUrl=url)["Messages"]
    consumer.settle(url, message)
    assert [s["ProtectionEnabled"] for s in seen_during_work[0]] == [True]
    assert agent.states[-1] == {"ProtectionEnabled": False}
