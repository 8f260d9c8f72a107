"""One agent execution from start (or resume) to its outcome (docs/agents.md).

    outcome = await run_agent(spec, host, ai)

The run: resolve the LLM roles, build the tools (unavailable ones named), record the `system`
and `task` steps, then run the loop (agents/framework.py, in a thread of its own) until a valid
final answer or the last answer after `max_actions`; then up to `feedback_rounds` rounds of
critique and revision. Every step is saved as a memory-state version as it happens.

Stopping: a watcher polls the host's cancel and pause flags and the time limit every
`POLL_SECONDS`; when one is set it stops the bridge (in-flight model and tool calls are
cancelled, later ones refused), waits for the loop's thread to end and returns `cancelled`,
`paused` or `failed` (`timeout`). A failure (no provider, a provider that keeps failing or
answers garbage, an invalid last answer, ...) ends with a final `system` step naming the cause
and `AgentOutcome(status="failed", error_type, message, output_summary="Failed: <reason>")`.

Resume (after a pause): the recorded steps are kept and the loop's memory is rebuilt from them
(framework.restore); the run continues with the actions left, plans again first, and its time
limit counts only the time it was running (`elapsed_seconds` in the state).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, TypeVar

from ..ai.types import AIError, AIServices, Message
from ..engine.errors import internal_error_text
from ..statuses import ExecutionStatus
from ..timeutil import utcnow
from . import prompts
from .bridge import Bridge, Stopped
from .errors import RunFailure
from .framework import AgentLoop, Session, restore, to_chat
from .host import AgentHost, AgentOutcome, AgentSpec
from .llm import AgentLLM, UsageMeter, resolve_roles
from .memory import Memory, make_step
from .output import OutputRules
from .resources import Resources
from .tools import ToolKit, build_toolbox

__all__ = ["run_agent"]

POLL_SECONDS: Final = 0.05  # cancel, pause and time limit are looked at this often
JOIN_SECONDS: Final = 1.0  # how long a stopped loop's thread is waited for
SUMMARY_CHARS: Final = 500

T = TypeVar("T")
StopReason = Literal[ExecutionStatus.CANCELLED, ExecutionStatus.PAUSED, "timeout"]
logger = logging.getLogger(__name__)


async def run_agent(
    spec: AgentSpec,
    host: AgentHost,
    ai: AIServices,
    *,
    resume_state: Mapping[str, Any] | None = None,
) -> AgentOutcome:
    """Run (or resume) one agent execution; never raises for a failure of the run itself."""
    return await _Run(spec, host, ai, resume_state).execute()


def _cause(exc: BaseException) -> RunFailure | AIError | None:
    """The failure behind an exception smolagents wrapped (AgentGenerationError from ...)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, RunFailure | AIError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


class _Run:
    def __init__(
        self,
        spec: AgentSpec,
        host: AgentHost,
        ai: AIServices,
        resume_state: Mapping[str, Any] | None,
    ) -> None:
        self.spec = spec
        self.host = host
        self.ai = ai
        self.loop = asyncio.get_running_loop()
        self.bridge = Bridge(self.loop)
        state = resume_state or {}
        self.meter = UsageMeter(
            state.get("usage") if isinstance(state.get("usage"), Mapping) else None
        )
        self.memory = Memory(host, self.meter, resume_state)
        self.memory.on_saved = self._heed_stop_flags
        self.stop_reason: StopReason | None = None
        self.agent: AgentLoop | None = None
        self.thread_done = asyncio.Event()
        self.thread_started = False

    # -- the outer frame: watcher, stop, outcome

    async def execute(self) -> AgentOutcome:
        started = self.loop.time()
        deadline = started + max(self.spec.timeout_seconds - self.memory.elapsed_before, 0.0)
        main = asyncio.create_task(self._main())
        watcher = asyncio.create_task(self._watch(started, deadline))
        try:
            await asyncio.wait({main, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if main.done() and not main.cancelled() and main.result() is not None:
                outcome: AgentOutcome | None = main.result()
            else:
                outcome = None
                main.cancel()
                await asyncio.wait({main})
        finally:
            watcher.cancel()
            if not main.done():  # our caller cancelled us
                self._stop(ExecutionStatus.CANCELLED)
                main.cancel()
            self.bridge.stop()
            await self._join_thread()
        if outcome is not None:
            return outcome
        return await self._stopped_outcome()

    async def _watch(self, started: float, deadline: float) -> None:
        while self.stop_reason is None:
            now = self.loop.time()
            self.memory.elapsed_now = now - started
            self._heed_stop_flags()
            if self.stop_reason is None and now >= deadline:
                self._stop("timeout")
            await asyncio.sleep(POLL_SECONDS)

    def _heed_stop_flags(self) -> None:
        """Stop for a cancel or pause: polled, and after every saved step, so a run paused
        while a step is recorded stops at that step (the loop's thread would go on to the next
        one before the poll)."""
        if self.host.cancel_requested():
            self._stop(ExecutionStatus.CANCELLED)
        elif self.host.pause_requested():
            self._stop(ExecutionStatus.PAUSED)

    def _stop(self, reason: StopReason) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.bridge.stop()
        if self.agent is not None:
            self.agent.interrupt()

    async def _join_thread(self) -> None:
        if self.thread_started:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.thread_done.wait(), JOIN_SECONDS)

    async def _stopped_outcome(self) -> AgentOutcome:
        if self.stop_reason == "timeout":
            return await self._fail(
                "timeout",
                f"the agent ran past its time limit of {self.spec.timeout_seconds:g} s "
                "(timeout_minutes)",
            )
        status: Literal[ExecutionStatus.CANCELLED, ExecutionStatus.PAUSED] = (
            ExecutionStatus.PAUSED
            if self.stop_reason == ExecutionStatus.PAUSED
            else ExecutionStatus.CANCELLED
        )
        return AgentOutcome(status=status, usage=self.meter.as_dict())

    async def _fail(self, error_type: str, message: str) -> AgentOutcome:
        step = make_step("system", f"Failed ({error_type}): {message}", started=utcnow())
        try:
            await self.memory.add(step)
        except Exception:  # the outcome still says why; the host logs its own failure
            logger.exception(
                "agent execution %s: the failure step was not saved", self.spec.execution_id
            )
        return AgentOutcome(
            status=ExecutionStatus.FAILED,
            error_type=error_type,
            message=message,
            output_summary=f"Failed: {message}"[:SUMMARY_CHARS],
            usage=self.meter.as_dict(),
        )

    # -- the run itself

    async def _main(self) -> AgentOutcome | None:
        """The outcome, or None when the run was stopped (the frame decides)."""
        try:
            return await self._work()
        except Stopped:
            return None
        except Exception as exc:
            if self.stop_reason is not None:
                return None
            cause = _cause(exc)
            if cause is not None:
                return await self._fail(cause.error_type, cause.message)
            logger.exception("agent execution %s failed", self.spec.execution_id)
            return await self._fail("agent_error", internal_error_text(exc))

    async def _work(self) -> AgentOutcome:
        spec, memory = self.spec, self.memory
        llm = AgentLLM(self.ai, resolve_roles(self.ai, spec.llm_config), self.meter)
        resources = Resources(
            self.host, self.ai, spec.agent_input, spec.tool_config, lambda: self.bridge.stopped
        )
        await resources.scope()
        kit = ToolKit(self.host, resources, llm)
        tools, unavailable = build_toolbox(spec.tool_config)
        output = OutputRules(spec.output_schema)
        system = prompts.system_text(
            agent_name=spec.agent_name,
            system_prompt=spec.system_prompt,
            instructions=spec.instructions,
            tools=tools,
            unavailable=unavailable,
            output_schema=spec.output_schema,
        )
        task = prompts.task_text(spec.agent_input_summary, spec.agent_input)
        session = Session(
            self.bridge, memory, llm, kit, tools, spec.tool_timeout_seconds, system, output
        )
        resumed = bool(memory.steps)
        if not resumed:
            now = utcnow()
            await memory.add(make_step("system", system, started=now))
            await memory.add(
                make_step("task", task, started=now, summary=spec.agent_input_summary[:200])
            )
        remaining = max(spec.max_actions - memory.action_count, 0)
        agent = AgentLoop(session, remaining, spec.planning_interval, spec.max_actions)
        self.agent = agent
        if resumed:
            restore(agent, task, memory.steps)
            await self._in_thread(lambda: agent.run(prompts.RESUMED, reset=False))
        else:
            await self._in_thread(lambda: agent.run(task))
        if not session.answered:
            raise RunFailure("agent_error", "the loop ended without a final answer")
        await self._feedback(agent, session)
        answer = session.answer
        return AgentOutcome(
            status=ExecutionStatus.COMPLETED,
            output=output.agent_output(answer),
            output_summary=output.summary(answer),
            usage=self.meter.as_dict(),
        )

    async def _in_thread(self, function: Callable[[], T]) -> T:
        """Run the (synchronous) loop in a daemon thread; `thread_done` tells when it ended,
        even after this await was cancelled."""
        future: asyncio.Future[T] = self.loop.create_future()

        def settle(result: T | None, error: BaseException | None) -> None:
            if not future.done():
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(result)  # type: ignore[arg-type]
            self.thread_done.set()

        def body() -> None:
            result: T | None = None
            error: BaseException | None = None
            try:
                result = function()
            except BaseException as exc:  # handed to the event loop, raised there
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self.loop.call_soon_threadsafe(settle, result, error)

        self.thread_started = True
        threading.Thread(target=body, name=f"agent-{self.spec.execution_id}", daemon=True).start()
        return await future

    async def _feedback(self, agent: AgentLoop, session: Session) -> None:
        """Up to `feedback_rounds` rounds: a critique (thought step), then a revised answer (a
        new final_answer step); a round that finds nothing to improve ends them."""
        output, llm = session.output, session.llm
        extra: list[Message] = []
        for _ in range(self.spec.feedback_rounds):
            _, turns = to_chat(agent.write_memory_to_messages())
            answer_text = output.text(session.answer)
            started = utcnow()
            try:
                review = await llm.structured(
                    "thought",
                    [*turns, *extra, Message("user", prompts.critique_request(answer_text))],
                    schema=prompts.CRITIQUE_SCHEMA,
                    system=prompts.CRITIQUE_SYSTEM,
                )
                critique = str(review.get("critique", "")).strip() or "(no critique)"
                await self.memory.add(make_step("thought", critique, started=started))
                if not review.get("improve"):
                    return
                extra += [
                    Message("assistant", answer_text),
                    Message("user", prompts.revise_request(critique)),
                ]
                started = utcnow()
                revised = output.normalize(
                    await llm.structured(
                        "thought",
                        [*turns, *extra],
                        schema=output.schema,
                        system=session.system_text,
                    )
                )
            except AIError as exc:
                await self.memory.add(
                    make_step(
                        "system",
                        f"Feedback stopped ({exc.error_type}): {exc.message}",
                        started=started,
                    )
                )
                return
            problems = output.problems(revised)
            if problems:
                await self.memory.add(
                    make_step(
                        "observation",
                        f"The revised answer does not match the output schema ({problems}); "
                        "the previous answer stands.",
                        started=started,
                    )
                )
                return
            await self.memory.add(session.final_step(revised, started))
