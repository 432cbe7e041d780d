"""Starting fulfil-request runs off the request path.

A webhook's 202 answers as soon as the request is committed; creating the Prefect run takes
tens of milliseconds of the Prefect server's time and would otherwise set the webhook's
latency and throughput. One worker per gateway process creates the runs in order, with one
long-lived client. What it has not started when the process stops is recorded with no run,
and the minute's `housekeeping` starts it: nothing accepted is lost.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from serviceops.application.intake import Accepted, start_and_note
from serviceops.application.prefect_api import prefect_client
from serviceops.domain.request import RequestSubmission

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartJob:
    accepted: Accepted
    submission: RequestSubmission
    source: str
    key: str | None


class RunStarter:
    def __init__(self, sessions: sessionmaker[Session], api_url: str | None) -> None:
        self.sessions = sessions
        self.api_url = api_url
        self._queue: asyncio.Queue[StartJob] | None = None
        self._worker: asyncio.Task[None] | None = None

    def submit(self, job: StartJob) -> None:
        """Queue a start; the worker is created on first use, in the serving event loop."""
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue()
            self._worker = asyncio.get_running_loop().create_task(self._work(self._queue))
        self._queue.put_nowait(job)

    async def drain(self) -> None:
        """Wait until every queued start has been tried (tests, orderly shutdown)."""
        if self._queue is not None:
            await self._queue.join()

    async def _work(self, queue: asyncio.Queue[StartJob]) -> None:
        while True:
            try:
                async with prefect_client(self.api_url) as client:
                    while True:
                        await self._next(queue, client)
            except Exception as exc:  # no Prefect configured, or the client broke
                dropped = _forget(queue)
                logger.warning(
                    "fulfil-request runs not started (%s); %d request(s) wait for housekeeping",
                    exc,
                    dropped,
                )
                await asyncio.sleep(1)

    async def _next(self, queue: asyncio.Queue[StartJob], client: "PrefectClient") -> None:
        job = await queue.get()
        try:
            await start_and_note(self.sessions, job.accepted, job.submission,
                                 source=job.source, key=job.key, client=client)  # fmt: skip
        finally:
            queue.task_done()


def _forget(queue: asyncio.Queue[StartJob]) -> int:
    """Empty the queue: those requests are recorded without a run; the upkeep starts them."""
    count = 0
    while not queue.empty():
        queue.get_nowait()
        queue.task_done()
        count += 1
    return count
