import azure.functions as func

app = func.FunctionApp()

raise RuntimeError("configuration missing: BROKEN_SETTING")
