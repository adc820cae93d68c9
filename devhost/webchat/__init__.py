"""The offline Web Chat page's bundle: ``python devhost/webchat/fetch.py`` (``make webchat``) fetches it into dist/."""
