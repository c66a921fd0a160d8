"""AI providers behind one interface, chosen by name (``local``, ``gemini``, ``bedrock``).

>>> provider = get_provider("gemini", AIConfig(gemini_api_key=key))   # doctest: +SKIP
>>> provider.edit(photo, variant=0).data                              # doctest: +SKIP
"""
from __future__ import annotations

import importlib
from collections.abc import Callable

from .base import VARIANTS, AIConfig, Provider, ProviderResult, Variant
from .local import LocalProvider

#: Name -> (module, class). Add a backend by adding a line here. The SDKs are
#: imported on first use: google-genai alone costs about a second of start-up,
#: paid by every app start, CLI call and batch worker process otherwise.
_CLASSES = {
    "local": (".local", "LocalProvider"),
    "gemini": (".gemini", "GeminiProvider"),
    "bedrock": (".bedrock", "BedrockProvider"),
}


def _class(name: str) -> type:
    module, cls = _CLASSES[name]
    return getattr(importlib.import_module(module, __name__), cls)


def _factory(name: str) -> Callable[[AIConfig], Provider]:
    def build(config: AIConfig) -> Provider:
        return _class(name)(config)

    build.__name__ = _CLASSES[name][1]
    return build


#: Name -> factory taking the config.
PROVIDERS: dict[str, Callable[[AIConfig], Provider]] = {name: _factory(name) for name in _CLASSES}


def __getattr__(attr: str):  # GeminiProvider / BedrockProvider, imported when first named
    for name, (_, cls) in _CLASSES.items():
        if attr == cls:
            return _class(name)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


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
