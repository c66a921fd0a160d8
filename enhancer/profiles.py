"""Marketplace profiles: what each marketplace asks of a main product image.

One row per marketplace, read top to bottom. Sizes are pixels, byte windows
KB (1024 bytes). ``canvas`` is what STANDARDIZE produces (the recommended
size); ``min_size`` is the hard minimum that compliance checks. Values come
from each marketplace's seller image guidelines (main/primary image).
"""
from __future__ import annotations

from dataclasses import dataclass

WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Profile:
    """A marketplace's image rules.

    Attributes
    ----------
    name : str
        Lower-case key (``"amazon"``).
    aspect : (int, int) or None
        Required width:height, or None when any aspect is accepted.
    canvas : (int, int)
        Output size STANDARDIZE produces (width, height).
    min_side, min_long : int
        Minimum shortest side / longest side in pixels (0 = no rule).
    max_long : int
        Maximum longest side.
    background : (int, int, int)
        Canvas colour; ``strict_background`` demands exactly this colour at
        the border (Amazon's pure white), otherwise "white or light" passes.
    fill : (float, float)
        Share of the frame the product's bounding box should span (its
        larger relative side).
    margin : float
        Minimum free border on each side, as a share of the side.
    format : str
        Required file format ("JPEG"), or "" for any.
    min_kb, max_kb : int or None
        Byte window; when set and the caller gives no target, the ceiling is
        the target and the floor is honoured.
    max_upscale : float
        Largest magnification of the source's pixels that still zooms as
        real detail (Lanczos plus back-projection holds up to about 2x).
        Compliance asks for ``min_long / max_upscale`` pixels of source
        detail behind the output, so a thumbnail blown up to the canvas fails.
    """

    name: str
    aspect: tuple[int, int] | None = (1, 1)
    canvas: tuple[int, int] = (2000, 2000)
    min_side: int = 0
    min_long: int = 500
    max_long: int = 10_000
    background: tuple[int, int, int] = WHITE
    strict_background: bool = False
    fill: tuple[float, float] = (0.80, 0.90)
    margin: float = 0.02
    format: str = "JPEG"
    min_kb: int | None = None
    max_kb: int | None = None
    max_upscale: float = 2.0

    @property
    def target_fill(self) -> float:
        """The fill STANDARDIZE aims at: the middle of the range, capped by the margins."""
        return min((self.fill[0] + self.fill[1]) / 2, 1 - 2 * self.margin)


PROFILES: dict[str, Profile] = {p.name: p for p in [
    # main image: pure white, product >= 85 % of the frame, >= 1000 px for zoom
    Profile("amazon", aspect=None, canvas=(2000, 2000), min_long=1000, max_long=10_000,
            strict_background=True, fill=(0.85, 1.0), margin=0.01),
    Profile("flipkart", aspect=(1, 1), canvas=(1500, 1500), min_side=1000, min_long=1000,
            fill=(0.80, 0.95)),
    Profile("myntra", aspect=(3, 4), canvas=(1080, 1440), min_side=1080, min_long=1440,
            fill=(0.80, 0.95), min_kb=500, max_kb=1024),
    Profile("ajio", aspect=(4, 5), canvas=(1200, 1500), min_side=1001, min_long=1001,
            fill=(0.80, 0.85), min_kb=200, max_kb=1024),
    Profile("meesho", aspect=(1, 1), canvas=(1000, 1000), min_side=500, min_long=500),
    Profile("shopify", aspect=(1, 1), canvas=(2048, 2048), min_long=800, format=""),
    Profile("ebay", aspect=None, canvas=(1600, 1600), min_long=500, max_long=9000, format=""),
    Profile("etsy", aspect=None, canvas=(2000, 2000), min_side=2000, min_long=2000, format=""),
    Profile("generic", aspect=(1, 1), canvas=(2000, 2000), min_long=1000),
]}


def get_profile(name: str | Profile) -> Profile:
    """Look a profile up by name (any case).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the valid ones.
    """
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[str(name).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}") from None
