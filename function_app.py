"""The Functions entry point: the Durable app with the orchestrator blueprint. Nothing else lives here."""

import azure.durable_functions as df
import azure.functions as func

from orchestrator import bp

app = df.DFApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(bp)
