"""AI providers behind one interface, chosen by name (``local``, ``gemini``, ``bedrock``).

>>> provider = get_provider("gemini", AIConfig(gemini_api_key=key))   # doctest: +SKIP
>>> provider.edit(photo, variant=0).data                              # doctest: +SKIP
"""
from __future__ import annotations

from collections.abc import Callable

from .base import VARIANTS, AIConfig, Provider, ProviderResult, Variant
from .bedrock import BedrockProvider
from .gemini import GeminiProvider
from .local import LocalProvider

#: Name -> factory taking the config. Add a backend by adding a line here.
PROVIDERS: dict[str, Callable[[AIConfig], Provider]] = {
    "local": LocalProvider,
    "gemini": GeminiProvider,
    "bedrock": BedrockProvider,
}


def get_provider(name: str, config: AIConfig | None = None) -> Provider:
    """Build the provider called ``name`` (any case) from ``config``.

    Raises
    ------
    ValueError
        If ``name`` is not one of :data:`PROVIDERS`; the message lists the valid names.
    """
    key = str(name).strip().lower()
    if key not in PROVIDERS:
        raise ValueError(f"unknown provider {name!r}; valid providers: {', '.join(PROVIDERS)}")
    return PROVIDERS[key](config if config is not None else AIConfig())


__all__ = ["AIConfig", "ProviderResult", "Provider", "Variant", "VARIANTS", "PROVIDERS",
           "get_provider", "LocalProvider", "GeminiProvider", "BedrockProvider"]
