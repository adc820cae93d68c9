"""Offline stand-ins for what only Azure provides.

- ``python -m devhost functions``: a Functions + Durable host that runs ``function_app.py`` unchanged on SQLite.
- ``python -m devhost directline``: a Direct Line 3.0 service that forwards to the bot.
- ``python -m devhost chat``: an Emulator-like terminal chat.
- ``python -m devhost up``: all of the above wired to the bot.
"""
