"""The review queue driven from the keyboard in a real browser: 1-9, J, X, Shift+A."""
from __future__ import annotations

import pytest

from support import photo_bytes, up

pytestmark = pytest.mark.browser


def _backends(env):
    from enhancer.app import build_backends
    from enhancer.config import settings_from_mapping

    return build_backends(settings_from_mapping(env))


def test_review_queue_keyboard_flow(app_server, page, shots, idle):
    b = _backends(app_server["env"])
    made = [up(b, photo_bytes("chelsea" if i % 2 else "astronaut", size=(360, 270), seed=60 + i),
               f"key{i}.jpg", sku_id=f"KEY-{i}", mode="AUTO", variants=2) for i in range(3)]
    page.goto(app_server["url"] + "/review")
    page.get_by_role("heading", name="Review").wait_for()
    page.get_by_text("3 image(s) waiting for review").wait_for()
    idle(page)
    shots(page, "05_review_queue")
    slow = 90_000  # a loaded CI machine renders slowly; each key is pressed once, then waited for

    def ready(button: str) -> None:
        page.get_by_role("button", name=button).first.wait_for(timeout=slow)
        idle(page)
        page.wait_for_timeout(300)  # shortcuts are bound once the buttons have mounted
        page.get_by_role("heading", name="Review").click()  # focus on the page, not an input

    ready("Approve #2")
    page.keyboard.press("2")  # approve the focused image's second result
    page.get_by_text("KEY-0: #2 approved.").wait_for(timeout=slow)
    page.get_by_text("2 image(s) waiting for review").wait_for(timeout=slow)
    ready("Reject all")
    page.keyboard.press("x")  # reject both results of the next one (now in focus)
    page.get_by_text("KEY-1: 2 result(s) rejected.").wait_for(timeout=slow)
    ready("Approve all suggested on this page (1)")
    page.keyboard.press("Shift+A")  # approve the suggested result of everything left on the page
    page.get_by_text("0 image(s) waiting for review").wait_for(timeout=slow)

    with b.session() as s:
        from db import repo
        states = {m.sku_id: repo.get_image(s, m.image_id) for m in made}
        assert states["KEY-0"].review_status.value == "approved"
        assert states["KEY-0"].enhanced_key == made[0].variants[0]["enhanced_key"]
        assert states["KEY-1"].review_status.value == "rejected"
        assert states["KEY-2"].review_status.value == "approved" and states["KEY-2"].enhanced_key == made[2].enhanced_key
        assert states["KEY-2"].reviewed_by == "dashboard:local"
    b.engine.dispose()
