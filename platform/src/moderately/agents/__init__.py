"""Agent executions (docs/agents.md): the loop, its tools, and what it needs from its host.

`run_agent(spec, host, ai)` (agents/runtime.py) runs one execution; the worker's job
(jobs/agent_execute.py) implements `AgentHost` (agents/host.py) over the database and the object
store, tests implement it in memory.
"""
