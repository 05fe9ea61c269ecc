"""Where model calls go: the Endpoint (from the environment or typed in) and the target it implies.

Its own module, apart from the model client, so that a command that only asks which target the environment's
connection implies (`ftstudio grade` without --target) loads no request runner, cache or retry policy.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ftstudio.core import register_secret
from ftstudio.core.records import datarecord, field

if TYPE_CHECKING:
    import openai


@datarecord(frozen=True)
class Endpoint:
    """Where model graders and embeddings go. `api_key` is never shown or stored."""

    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    kind: str = "openai"  # "openai" | "azure" | "compatible"
    api_version: str | None = None  # Azure endpoint + api-version style
    timeout: float = 60.0

    @classmethod
    def from_env(cls) -> Endpoint:
        """OPENAI_BASE_URL / OPENAI_API_KEY; else Azure's AZURE_OPENAI_ENDPOINT / AZURE_OPENAI_API_KEY
        (with OPENAI_API_VERSION for the endpoint + api-version style, or a .../openai/v1 URL)."""
        env = os.environ
        if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL") or not env.get("AZURE_OPENAI_ENDPOINT"):
            return cls(base_url=env.get("OPENAI_BASE_URL") or None, api_key=env.get("OPENAI_API_KEY") or None)
        return cls.azure(env["AZURE_OPENAI_ENDPOINT"], env.get("AZURE_OPENAI_API_KEY"),
                         env.get("OPENAI_API_VERSION") or env.get("AZURE_OPENAI_API_VERSION"))

    @classmethod
    def azure(cls, endpoint: str, api_key: str | None, api_version: str | None = None) -> Endpoint:
        """Azure OpenAI / Foundry: the v1 base URL (https://NAME.openai.azure.com/openai/v1), or the
        resource endpoint plus an api-version."""
        url = endpoint.rstrip("/")
        if url.endswith("/openai/v1") or not api_version:
            if not url.endswith("/openai/v1"):
                url += "/openai/v1"
            return cls(base_url=url, api_key=api_key, kind="azure")
        return cls(base_url=url, api_key=api_key, kind="azure", api_version=api_version)

    @property
    def configured(self) -> bool:
        return bool(self.api_key or self.base_url)

    @property
    def target(self) -> str:
        """The provider target this connection implies: azure, bedrock (a bedrock-mantle URL) or openai."""
        if self.kind == "azure":
            return "azure"
        if self.base_url and "bedrock" in self.base_url.lower():
            return "bedrock"
        return "openai"


    @property
    def label(self) -> str:
        return self.base_url or "https://api.openai.com/v1"

    def async_client(self) -> openai.AsyncOpenAI:
        import openai

        return self._client(openai.AsyncAzureOpenAI, openai.AsyncOpenAI)

    def sync_client(self) -> openai.OpenAI:
        import openai

        return self._client(openai.AzureOpenAI, openai.OpenAI)

    def _client(self, azure_cls: Any, cls: Any) -> Any:
        register_secret(self.api_key)
        key = self.api_key or "not-needed"  # local servers (Ollama, vLLM) accept any key
        common = {"api_key": key, "max_retries": 0, "timeout": self.timeout}
        if self.kind == "azure" and self.api_version:
            # azure_endpoint None lets the SDK read AZURE_OPENAI_ENDPOINT.
            return azure_cls(azure_endpoint=self.base_url, api_version=self.api_version, **common)
        return cls(base_url=self.base_url, default_headers={"api-key": key} if self.kind == "azure" else None,
                   **common)


def default_target() -> str:
    """The target of the connection the environment configures (openai when none is)."""
    return Endpoint.from_env().target
