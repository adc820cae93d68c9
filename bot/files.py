"""Whether a user's message carries files, which the bot does not use.

A file arrives as an attachment with a contentUrl: Direct Line's upload gives the bot a private link, the Emulator
a ``/v3/attachments/{id}/views/original`` URL, Teams an inline image's URL or, for a file in a personal chat, a
``application/vnd.microsoft.teams.file.download.info`` attachment. Not a file: the ``text/html`` copy of the text
that Teams attaches to every message (content, no contentUrl), and cards.
"""

from botbuilder.schema import Activity

TEAMS_FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"


def carries_files(activity: Activity) -> bool:
    return any(
        attachment.content_url or attachment.content_type == TEAMS_FILE_DOWNLOAD_INFO
        for attachment in activity.attachments or []
    )
