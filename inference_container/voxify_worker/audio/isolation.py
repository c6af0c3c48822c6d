"""Decoding untrusted uploads in a child process whose memory is capped.

The bounded decoder (decode.py) keeps an honest library within max_seconds of audio, but a
decoder library can still be driven to allocate far more than that (an MP4 index naming
millions of frames, a bug), and in the worker's own process that gets the whole task
OOM-killed: every other job it holds is lost, and the message comes back to kill the next
worker. Here the decode runs in a child process with RLIMIT_AS set to what it had after its
imports plus `memory_limit` (768 MiB by default): the child raises MemoryError, or dies, and
the upload is refused as CORRUPT_AUDIO while the worker carries on.

The child is long-lived: one per concurrent decode, kept for `MAX_DECODES_PER_CHILD` decodes
and replaced after any failure. It is a fresh interpreter (a subprocess, so nothing is
forked from a process with threads) that imports numpy, soundfile, PyAV and decode.py only:
a stand-in for this package keeps its `__init__` (scipy, pyworld, pyloudnorm) out. Measured
(`python -m tests.unit.worker.audio.bomb_figures`): starting one takes 0.2-0.4 s and 50 MiB;
a decode through it adds the pipe copies, 1.5 ms for a 5 s WAV, 40 ms for 300 s at 24 kHz.

Protocol, over the child's stdin and stdout: the request is `<dQ` (max_seconds, length) and
the file; the reply `<BIQQI` (status, sample rate, sample count, peak RSS in bytes, message
length), the message, and on success the float32 samples.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import os
import resource
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

import numpy as np

from voxify.errors import ErrorCode

from .decode import Decoded, decode, plain_message
from .errors import AudioError

DEFAULT_MEMORY_LIMIT = 768 * 2**20
DEFAULT_TIMEOUT_SECONDS = 60.0
START_TIMEOUT_SECONDS = 60.0
MAX_DECODES_PER_CHILD = 200
MAX_IDLE_CHILDREN = 4

_REQUEST = struct.Struct("<dQ")
_REPLY = struct.Struct("<BIQQI")
_OK, _REFUSED, _FAILED = 0, 1, 2
_READY = b"R"
_CHUNK = 1 << 22

# Run with `python -c`: installs a stand-in for voxify_worker.audio (same files, no
# __init__), then serves. argv[1] is JSON: sys.path, the package's folder, the memory limit.
_BOOTSTRAP = """
import json, sys, types
setup = json.loads(sys.argv[1])
sys.path[:0] = setup["path"]
package = types.ModuleType("voxify_worker.audio")
package.__path__ = [setup["folder"]]
sys.modules["voxify_worker.audio"] = package
from voxify_worker.audio.isolation import serve
serve(setup["memory_limit"])
"""
# Fewer threads and malloc arenas: each reserves address space the cap counts.
_CHILD_ENVIRONMENT = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


class DecoderUnavailable(RuntimeError):
    """The decoding process could not be started: the work should be retried, not refused."""


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    uses: int = 0
    healthy: bool = True  # False once a reply went wrong or the child said it will end

    @property
    def stdin(self) -> IO[bytes]:
        assert self.process.stdin is not None
        return self.process.stdin

    @property
    def stdout(self) -> io.BufferedReader:
        return cast(io.BufferedReader, self.process.stdout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@dataclass
class IsolatedDecoder:
    """A pool of decoding child processes; `decode` is safe to call from several threads."""

    memory_limit: int = DEFAULT_MEMORY_LIMIT
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    # figures for logs and tests: children started, the last one's start-up time, and the
    # peak resident memory of the child that answered last
    starts: int = 0
    last_start_seconds: float = 0.0
    last_peak_rss: int = 0
    _idle: list[_Child] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decode(self, data: bytes, max_seconds: float) -> Decoded:
        """As decode.decode, in a child process. A child that runs out of memory, crashes or
        takes longer than `timeout` makes the file CORRUPT_AUDIO; one that cannot be started
        raises DecoderUnavailable."""
        child = self._take()
        try:
            return self._ask(child, data, max_seconds)
        finally:
            if child.healthy:
                self._give_back(child)
            else:
                child.stop()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.stop()

    def _take(self) -> _Child:
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.process.poll() is None:
                    return child
                child.stop()
        return self._start()

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            if child.uses < MAX_DECODES_PER_CHILD and len(self._idle) < MAX_IDLE_CHILDREN:
                self._idle.append(child)
                return
        child.stop()

    def _start(self) -> _Child:
        started = time.perf_counter()
        setup = {"path": sys.path, "folder": str(Path(__file__).parent), "memory_limit": self.memory_limit}
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _BOOTSTRAP, json.dumps(setup)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, **_CHILD_ENVIRONMENT},
                close_fds=True,
            )
        except OSError as exc:
            raise DecoderUnavailable(f"cannot start the decoding process: {exc.strerror}") from exc
        child = _Child(process)
        if not _readable(child.stdout, START_TIMEOUT_SECONDS) or child.stdout.read(1) != _READY:
            child.stop()
            raise DecoderUnavailable("the decoding process did not start")
        self.starts += 1
        self.last_start_seconds = time.perf_counter() - started
        return child

    def _ask(self, child: _Child, data: bytes, max_seconds: float) -> Decoded:
        child.uses += 1
        child.healthy = False  # until the whole reply has been read
        try:
            child.stdin.write(_REQUEST.pack(max_seconds, len(data)))
            child.stdin.write(data)
            child.stdin.flush()
            if not _readable(child.stdout, self.timeout):
                raise _Lost(f"decoding took longer than {self.timeout:g} s")
            status, rate, count, peak, size = _REPLY.unpack(_read_exactly(child.stdout, _REPLY.size))
            message = _read_exactly(child.stdout, size).decode("utf-8", "replace")
            self.last_peak_rss = peak
            if status == _REFUSED:
                code, _, text = message.partition("\t")
                child.healthy = code != ErrorCode.CORRUPT_AUDIO  # the child ends after those
                raise AudioError(ErrorCode(code), text)
            if status != _OK:
                raise _Lost(message)
            samples = np.empty(count, np.float32)
            view = memoryview(samples.data).cast("B")
            for start in range(0, len(view), _CHUNK):
                _read_into(child.stdout, view[start : start + _CHUNK])
            child.healthy = True
        except (OSError, EOFError, ValueError, _Lost) as exc:
            reason = str(exc) if isinstance(exc, _Lost) else "the decoder crashed or ran out of memory"
            raise AudioError(ErrorCode.CORRUPT_AUDIO, f"the file cannot be decoded safely: {reason}") from exc
        return samples, rate


class _Lost(Exception):
    """The child failed in a way that leaves it unusable."""


def _readable(stream: io.BufferedReader, timeout: float) -> bool:
    return bool(select.select([stream], [], [], timeout)[0])


def _read_exactly(stream: io.BufferedReader, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the decoding process ended")
    return data


def _read_into(stream: io.BufferedReader, view: memoryview) -> None:
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            raise EOFError("the decoding process ended")
        filled += got


_DEFAULT = IsolatedDecoder()
atexit.register(_DEFAULT.close)


def decode_isolated(data: bytes, max_seconds: float) -> Decoded:
    """Decode an untrusted upload in a memory-capped child process (see the module doc)."""
    return _DEFAULT.decode(data, max_seconds)


def isolated_decoder() -> IsolatedDecoder:
    """The pool `decode_isolated` uses (its figures: children started, last peak memory)."""
    return _DEFAULT


# --------------------------------------------------------------------------- the child


def serve(memory_limit: int) -> None:
    """The child's loop: decode each request, answer, and exit when stdin closes or after a
    failure that may have left the libraries in a bad state."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints must not land in the replies
    requests = os.fdopen(os.dup(0), "rb")
    _cap_memory(memory_limit)
    replies.write(_READY)
    replies.flush()
    while True:
        head = requests.read(_REQUEST.size)
        if len(head) < _REQUEST.size:
            return
        max_seconds, size = _REQUEST.unpack(head)
        data = requests.read(size)
        if len(data) < size:
            return
        if not _answer(replies, data, max_seconds):
            return


def _answer(replies: IO[bytes], data: bytes, max_seconds: float) -> bool:
    """Decode and reply; False when the child should end."""
    try:
        samples, rate = decode(data, max_seconds)
    except AudioError as error:
        _reply(replies, _REFUSED, f"{error.code.value}\t{error.message}")
        return error.code != ErrorCode.CORRUPT_AUDIO  # a library may be left in a bad state
    except Exception as exc:  # a library failing in a way decode does not know
        _reply(replies, _FAILED, f"the decoder failed ({plain_message(exc)})")
        return False
    del data
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    _reply(replies, _OK, "", rate, samples.size)
    view = memoryview(samples.data).cast("B")
    for start in range(0, len(view), _CHUNK):
        replies.write(view[start : start + _CHUNK])
    replies.flush()
    return True


def _reply(replies: IO[bytes], status: int, message: str, rate: int = 0, count: int = 0) -> None:
    text = message.encode()
    replies.write(_REPLY.pack(status, rate, count, _peak_rss(), len(text)) + text)
    replies.flush()


def _peak_rss() -> int:
    """This process's peak resident memory. Not ru_maxrss: Linux carries that over from the
    parent across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


def _cap_memory(extra: int) -> None:
    """Address space: what the imports took, plus `extra`."""
    try:
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # not Linux: no cap, as RLIMIT_AS is not enforced there anyway
    resource.setrlimit(resource.RLIMIT_AS, (current + extra, current + extra))
