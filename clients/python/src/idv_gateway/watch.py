"""A resumable watch of one attempt (``idv.attempts.v1.AttemptService/WatchAttempt``).

The watch remembers the resume token of every message it receives (the snapshot,
events, heartbeats), yields each :class:`AttemptEvent` once (delivery is at least once
across reconnects, so events are deduplicated by ``event_id``), and when the call fails
in a way that says the connection or the stream broke -- ``UNAVAILABLE``, or
``CANCELLED``/``INTERNAL``/``UNKNOWN`` without an ErrorInfo, as a reset stream gives --
it reconnects with exponential backoff and jitter and resends the last token.

Iteration ends when the stream ends with OK (the attempt reached a terminal state, or
with ``follow_after_terminal`` the gateway closed the stream) or after :meth:`cancel`.
Every other error is raised as the ``grpc.RpcError`` it is (``NOT_FOUND``,
``FAILED_PRECONDITION`` with reason ``RESUME_TOKEN_EXPIRED``, ``INVALID_ARGUMENT``...);
read it with :func:`idv_gateway.error_details`.

::

    watch = AttemptWatch(channel, ableid_attempt_id=attempt_id)
    for event in watch:
        print(event.sequence, event.WhichOneof("kind"))
    print(watch.snapshot, watch.state)
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from typing import Any, NamedTuple

import grpc
import grpc.aio

from idv.attempts.v1 import attempts_pb2, attempts_pb2_grpc
from idv_gateway.errors import error_details

AttemptEvent = attempts_pb2.AttemptEvent
Attempt = attempts_pb2.Attempt

DEFAULT_INITIAL_BACKOFF = 0.25
DEFAULT_MAX_BACKOFF = 15.0
DEFAULT_MAX_RETRIES = 10

Metadata = Sequence[tuple[str, str | bytes]]


class Reconnect(NamedTuple):
    """One reconnect of a watch, for logging and tests."""

    #: Reconnects in a row without a message received, from 1.
    retry: int
    #: Seconds waited before this reconnect.
    delay: float
    #: The token the new call sends: the one of the last message received ("" when none
    #: has arrived yet, which starts over with a snapshot; known events are skipped).
    resume_token: str
    #: The error that ended the previous call.
    cause: grpc.RpcError


def is_retryable(err: BaseException) -> bool:
    """Whether a WatchAttempt error means the connection or the stream broke.

    ``UNAVAILABLE``, or ``CANCELLED``, ``INTERNAL`` or ``UNKNOWN`` without an ErrorInfo (a
    reset stream, or one that ended without a status: the gateway puts an ErrorInfo in
    every error it returns itself).
    """
    details = error_details(err)
    if details is None:
        return False
    if details.code == grpc.StatusCode.UNAVAILABLE:
        return True
    if details.code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
        return details.error_info is None
    return False


class _WatchState:
    """What both watch flavours share: the request, the token, the events seen."""

    def __init__(
        self,
        *,
        ableid_attempt_id: str | None,
        baf_applicant_id: str | None,
        request: attempts_pb2.WatchAttemptRequest | None,
        follow_after_terminal: bool,
        resume_token: str,
        initial_backoff: float,
        max_backoff: float,
        max_retries: int,
        on_snapshot: Callable[[Attempt], None] | None,
        on_reconnect: Callable[[Reconnect], None] | None,
    ) -> None:
        if request is None:
            if (ableid_attempt_id is None) == (baf_applicant_id is None):
                raise ValueError("give exactly one of ableid_attempt_id, baf_applicant_id or request")
            request = attempts_pb2.WatchAttemptRequest(
                ableid_attempt_id=ableid_attempt_id,
                baf_applicant_id=baf_applicant_id,
                follow_after_terminal=follow_after_terminal,
            )
        else:
            copy = attempts_pb2.WatchAttemptRequest()
            copy.CopyFrom(request)
            request = copy
        if resume_token:
            request.resume_token = resume_token
        self.request = request
        self.resume_token = request.resume_token
        self.initial_backoff = initial_backoff if initial_backoff > 0 else DEFAULT_INITIAL_BACKOFF
        self.max_backoff = max(max_backoff if max_backoff > 0 else DEFAULT_MAX_BACKOFF, self.initial_backoff)
        self.max_retries = max_retries
        self.on_snapshot = on_snapshot
        self.on_reconnect = on_reconnect
        self.snapshot: Attempt | None = None
        self.state: attempts_pb2.AttemptState = attempts_pb2.ATTEMPT_STATE_UNSPECIFIED
        self.reconnects = 0
        self.failures = 0
        self._seen: set[str] = set()

    def next_request(self) -> attempts_pb2.WatchAttemptRequest:
        request = attempts_pb2.WatchAttemptRequest()
        request.CopyFrom(self.request)
        request.resume_token = self.resume_token
        return request

    def accept(self, message: attempts_pb2.WatchAttemptResponse) -> AttemptEvent | None:
        """Takes one message; returns the event to hand over, if any."""
        self.failures = 0
        if message.resume_token:
            self.resume_token = message.resume_token
        kind = message.WhichOneof("kind")
        if kind == "attempt":
            self.snapshot = message.attempt
            self.state = message.attempt.state
            if self.on_snapshot is not None:
                self.on_snapshot(message.attempt)
        elif kind == "event":
            event = message.event
            if event.event_id in self._seen:
                return None
            if event.event_id:
                self._seen.add(event.event_id)
            self.state = event.attempt_state
            return event
        # Heartbeats (and kinds this version does not know) only move the token.
        return None

    def retry_delay(self, err: grpc.RpcError) -> float:
        """Seconds to wait before reconnecting after ``err``; raises ``err`` if it is final."""
        if not is_retryable(err):
            raise err
        self.failures += 1
        if 0 <= self.max_retries < self.failures:
            raise err
        base: float = min(self.initial_backoff * (2.0 ** (self.failures - 1)), self.max_backoff)
        delay = base / 2 + random.uniform(0, base / 2)
        details = error_details(err)
        if details is not None and details.retry_delay is not None:
            delay = max(delay, details.retry_delay.total_seconds())
        self.reconnects += 1
        if self.on_reconnect is not None:
            self.on_reconnect(Reconnect(self.failures, delay, self.resume_token, err))
        return delay


class _WatchBase:
    _s: _WatchState

    @property
    def resume_token(self) -> str:
        """The token of the last message received: pass it as ``resume_token`` to continue
        this watch later, even from another process."""
        return self._s.resume_token

    @property
    def snapshot(self) -> Attempt | None:
        """The attempt as the last snapshot message gave it (the first message of a watch
        without resume token), or ``None``."""
        return self._s.snapshot

    @property
    def state(self) -> attempts_pb2.AttemptState:
        """The attempt's ``AttemptState`` after the last snapshot or event received."""
        return self._s.state

    @property
    def reconnects(self) -> int:
        """Reconnects so far."""
        return self._s.reconnects


class AttemptWatch(_WatchBase):
    """A resumable watch of one attempt; iterate it for the events (see the module doc).

    :param target: a channel, or an ``AttemptServiceStub``.
    :param ableid_attempt_id: the AbleID session to watch, or
    :param baf_applicant_id: the BAF applicant to watch, or
    :param request: a whole ``WatchAttemptRequest``.
    :param follow_after_terminal: keep following after the terminal state.
    :param resume_token: where to start (from an earlier watch of this attempt).
    :param initial_backoff: base wait in seconds before the first reconnect; it doubles
        with each further failed reconnect in a row up to ``max_backoff``, and each wait
        is jittered to between half and all of its base.
    :param max_retries: reconnects in a row (without a message) before the error is
        raised; negative for no limit.
    :param on_snapshot: called with each snapshot received.
    :param on_reconnect: called before each reconnect.
    :param metadata: call metadata for every WatchAttempt call.
    """

    def __init__(
        self,
        target: grpc.Channel | attempts_pb2_grpc.AttemptServiceStub,
        *,
        ableid_attempt_id: str | None = None,
        baf_applicant_id: str | None = None,
        request: attempts_pb2.WatchAttemptRequest | None = None,
        follow_after_terminal: bool = False,
        resume_token: str = "",
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_retries: int = DEFAULT_MAX_RETRIES,
        on_snapshot: Callable[[Attempt], None] | None = None,
        on_reconnect: Callable[[Reconnect], None] | None = None,
        metadata: Metadata | None = None,
    ) -> None:
        self._stub: Any = (
            target if isinstance(target, attempts_pb2_grpc.AttemptServiceStub) else attempts_pb2_grpc.AttemptServiceStub(target)
        )
        self._s = _WatchState(
            ableid_attempt_id=ableid_attempt_id,
            baf_applicant_id=baf_applicant_id,
            request=request,
            follow_after_terminal=follow_after_terminal,
            resume_token=resume_token,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            max_retries=max_retries,
            on_snapshot=on_snapshot,
            on_reconnect=on_reconnect,
        )
        self._metadata = metadata
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._call: Any = None

    def cancel(self) -> None:
        """Ends the watch from any thread: the iteration stops without an error."""
        self._cancelled.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def __iter__(self) -> Generator[AttemptEvent, None, None]:
        while not self._cancelled.is_set():
            call = self._stub.WatchAttempt(self._s.next_request(), metadata=self._metadata)
            with self._lock:
                self._call = call
            if self._cancelled.is_set():
                call.cancel()
            try:
                for message in call:
                    event = self._s.accept(message)
                    if event is not None:
                        yield event
                return
            except grpc.RpcError as err:
                if self._cancelled.is_set():
                    return
                delay = self._s.retry_delay(err)
                if self._cancelled.wait(delay):
                    return
            finally:
                call.cancel()  # no-op once finished; ends the call when the caller stops early
                with self._lock:
                    self._call = None


def watch_attempt(
    target: grpc.Channel | attempts_pb2_grpc.AttemptServiceStub, **kwargs: Any
) -> Generator[AttemptEvent, None, None]:
    """``iter(AttemptWatch(target, **kwargs))``: the events of one attempt, each once."""
    return AttemptWatch(target, **kwargs).__iter__()


class AsyncAttemptWatch(_WatchBase):
    """The asyncio flavour of :class:`AttemptWatch`, over a ``grpc.aio`` channel::

        async for event in AsyncAttemptWatch(channel, ableid_attempt_id=attempt_id):
            ...

    Cancel it by cancelling the task that iterates it, or with :meth:`cancel`.
    """

    def __init__(
        self,
        target: grpc.aio.Channel | attempts_pb2_grpc.AttemptServiceStub,
        *,
        ableid_attempt_id: str | None = None,
        baf_applicant_id: str | None = None,
        request: attempts_pb2.WatchAttemptRequest | None = None,
        follow_after_terminal: bool = False,
        resume_token: str = "",
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        max_retries: int = DEFAULT_MAX_RETRIES,
        on_snapshot: Callable[[Attempt], None] | None = None,
        on_reconnect: Callable[[Reconnect], None] | None = None,
        metadata: Metadata | None = None,
    ) -> None:
        self._stub: Any = (
            target if isinstance(target, attempts_pb2_grpc.AttemptServiceStub) else attempts_pb2_grpc.AttemptServiceStub(target)
        )
        self._s = _WatchState(
            ableid_attempt_id=ableid_attempt_id,
            baf_applicant_id=baf_applicant_id,
            request=request,
            follow_after_terminal=follow_after_terminal,
            resume_token=resume_token,
            initial_backoff=initial_backoff,
            max_backoff=max_backoff,
            max_retries=max_retries,
            on_snapshot=on_snapshot,
            on_reconnect=on_reconnect,
        )
        self._metadata = metadata
        self._cancelled = False
        self._call: Any = None

    def cancel(self) -> None:
        """Ends the watch: the iteration stops without an error."""
        self._cancelled = True
        if self._call is not None:
            self._call.cancel()

    async def __aiter__(self) -> AsyncIterator[AttemptEvent]:
        while not self._cancelled:
            call = self._stub.WatchAttempt(self._s.next_request(), metadata=self._metadata)
            self._call = call
            try:
                async for message in call:
                    event = self._s.accept(message)
                    if event is not None:
                        yield event
                return
            except grpc.aio.AioRpcError as err:
                if self._cancelled:
                    return
                delay = self._s.retry_delay(err)
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                if self._cancelled:
                    return
                raise
            finally:
                call.cancel()
                self._call = None
