"""Marketplace profiles (first version: names only; the library work fills them in)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    aspect: tuple[int, int] | None = (1, 1)
    min_px: int = 500
    recommended_px: int = 1000
    max_px: int = 10_000
    background: tuple[int, int, int] = (255, 255, 255)
    fill: tuple[float, float] = (0.80, 0.90)
    format: str = "JPEG"
    min_kb: int | None = None
    max_kb: int | None = None


PROFILES: dict[str, Profile] = {p.name: p for p in [
    Profile("amazon", aspect=None, recommended_px=1000, fill=(0.85, 1.0)),
    Profile("flipkart"), Profile("myntra", aspect=(3, 4)), Profile("ajio", aspect=(4, 5)),
    Profile("meesho"), Profile("shopify", recommended_px=2048), Profile("ebay", recommended_px=1600),
    Profile("etsy", recommended_px=2000), Profile("generic"),
]}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None
