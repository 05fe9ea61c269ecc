"""An OpenAI-compatible HTTP stub for tests and benchmarks (stdlib server; the real SDK talks to it).

    with OpenAIStub() as stub:
        client = openai.OpenAI(base_url=stub.base_url, api_key=stub.api_key)

See server.OpenAIStub for the control API and _chat for the [[directives]].
"""

from ._account import account_jobs, closed_port_url
from ._chat import REFUSAL_TEXT, embed
from ._judge import JUDGE_GRADER, LABELLED_ROWS
from .server import DEFAULT_API_KEY, OpenAIStub, RecordedRequest

__all__ = ["DEFAULT_API_KEY", "JUDGE_GRADER", "LABELLED_ROWS", "OpenAIStub", "RecordedRequest", "REFUSAL_TEXT", "account_jobs", "closed_port_url",
           "embed"]
