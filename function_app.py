"""The Functions entry point: the Durable app with the orchestrator blueprint, and tracing set up once."""

import azure.durable_functions as df
import azure.functions as func

from orchestrator import bp
from orchestrator.tracing import configure_tracing

configure_tracing()
app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(bp)
