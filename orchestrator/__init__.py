"""The Durable Functions app: HTTP starter, the long_operation orchestrator and its activities.

``bp`` is the blueprint function_app.py registers; everything else is plain code the triggers call.
"""

from orchestrator.blueprint import bp

__all__ = ["bp"]
