"""Agent wire types read both step spellings of the live tail, and the SDK's own
rules for summaries and finished executions."""

import pytest

from moderatelyai_sdk import (
    AgentExecution,
    AgentExecutionCancelledError,
    AgentExecutionFailedError,
    AgentStep,
)
from moderatelyai_sdk._agents import check_finished, input_summary

CAMEL = {
    "stepType": "final_answer",
    "startedAt": "2026-01-01T00:00:00.000Z",
    "endedAt": "2026-01-01T00:00:01.000Z",
    "summary": "answered",
    "finalAnswer": {"type": "final_answer", "output": '{"a": 1}', "resourceIds": ["f1"]},
}
SNAKE = {
    "step_type": "final_answer",
    "started_at": "2026-01-01T00:00:00.000Z",
    "ended_at": "2026-01-01T00:00:01.000Z",
    "summary": "answered",
    "final_answer": {"type": "final_answer", "output": '{"a": 1}', "resource_ids": ["f1"]},
}


def test_steps_read_the_same_in_both_spellings() -> None:
    camel, snake = AgentStep.model_validate(CAMEL), AgentStep.model_validate(SNAKE)
    for step in (camel, snake):
        assert (step.step_type, step.started_at, step.ended_at) == (
            "final_answer",
            "2026-01-01T00:00:00.000Z",
            "2026-01-01T00:00:01.000Z",
        )
        assert step.content is step.final_answer
        assert step.final_answer is not None and step.final_answer.resource_ids == ["f1"]
    assert camel.to_dict() == CAMEL  # as the server sent it
    facts = AgentStep.model_validate({"stepType": "fact", "facts": "known: x"})
    assert facts.content == "known: x"
    assert AgentStep.model_validate({"type": "planning", "content": "informal"}).content is None


def test_input_summary() -> None:
    assert input_summary({}) == "Agent execution"
    assert input_summary({"q": "é"}) == '{"q":"é"}'
    assert len(input_summary({"q": "x" * 1000})) == 500


def execution(status: str, summary: object = None) -> AgentExecution:
    return AgentExecution.model_validate(
        {
            "agentExecutionId": "ax1",
            "agentConfigurationVersionId": "v1",
            "status": status,
            "agentOutputSummary": summary,
        }
    )


def test_finished_executions() -> None:
    done = execution("completed", "ok")
    assert check_finished(done) is done
    with pytest.raises(AgentExecutionFailedError) as failed:
        check_finished(execution("failed", "Failed: timeout after 30 minutes"))
    assert failed.value.reason == "timeout after 30 minutes"
    assert str(failed.value) == "Agent execution failed: timeout after 30 minutes"
    assert (failed.value.execution_id, failed.value.status) == ("ax1", "failed")
    with pytest.raises(AgentExecutionFailedError) as bare:
        check_finished(execution("failed"))
    assert bare.value.reason is None and str(bare.value) == "Agent execution failed"
    with pytest.raises(AgentExecutionCancelledError) as cancelled:
        check_finished(execution("cancelled"))
    assert cancelled.value.execution.status == "cancelled"
