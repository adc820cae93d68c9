"""The function app's shared session to Direct Line."""

import asyncio

from orchestrator.http_session import SharedSession


def test_the_shared_session_does_not_cap_concurrent_notifications_at_aiohttps_100() -> None:
    async def main() -> None:
        shared = SharedSession()
        session = await shared.get()
        try:
            assert session.connector is not None
            assert session.connector.limit == 0
            assert await shared.get() is session
        finally:
            await shared.close()

    asyncio.run(main())
