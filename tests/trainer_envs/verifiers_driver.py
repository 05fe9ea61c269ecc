"""Runs in the verifiers venv: verifiers 0.4.0's own Task.score on given completions, for our tasks.

stdin: {"grader": path, "rows": [{"row": OpenAI-format row or item, "completion": str}]}
stdout (last line): {"tasks": [{"reward", "rewards": {name: [score, weight]}, "metrics", "item"}],
"node_route": [trace.reward with the completion as a sampled assistant message], "taskset": [items]}
"""

import asyncio
import json
import sys

import verifiers.v1 as vf

from ftstudio.reward.verifiers import task_for, taskset


def trace_for(task, **kw):
    return vf.Trace(task=vf.TraceTask(type=type(task).__name__, data=task.data),
                    agent=vf.AgentInfo(config=vf.AgentConfig()), **kw)


async def score(task, trace):
    await task.score(trace)  # no runtime, no model: the task's own rewards
    return trace


def main():
    payload = json.load(sys.stdin)
    tasks, nodes = [], []
    for entry in payload["rows"]:
        task = task_for(payload["grader"], entry["row"])
        trace = asyncio.run(score(task, trace_for(task, root_reply=entry["completion"])))
        tasks.append({"reward": trace.reward, "item": task.data.item, "metrics": dict(trace.metrics),
                      "rewards": {k: [r.score, r.weight] for k, r in trace.rewards.items()}})
        node_trace = trace_for(task, nodes=[
            vf.MessageNode(message=vf.UserMessage(content="question")),
            vf.MessageNode(parent=0, message=vf.AssistantMessage(content=entry["completion"]), sampled=True)])
        nodes.append(asyncio.run(score(task, node_trace)).reward)
    items = [t.data.item for t in taskset(payload["grader"], [e["row"] for e in payload["rows"]])]
    print(json.dumps({"tasks": tasks, "node_route": nodes, "taskset": items}))


if __name__ == "__main__":
    main()
