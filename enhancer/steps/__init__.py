"""Enhancement steps: ``step(img, ctx) -> img``, one module per step.

A step that does not apply returns its input object unchanged; the pipeline
records a step as applied only when it returns a new array.
"""
