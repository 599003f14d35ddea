"""The web portal: server-rendered Dutch pages for employers, institutions and admins.

It lives beside the HTTP API in the same FastAPI app and uses the same services and the same
organisation checks. Sign-in is by a one-time link (`/portaal` in the bot, or
`leerloop portal link --org ID`); a browser session is an HttpOnly cookie, every form carries
the session's CSRF token.
"""

from bot.portal._web import PREFIX, is_portal_request, portal_error_page
from bot.portal.routes import mount_portal, portal_router

__all__ = [
    "PREFIX",
    "is_portal_request",
    "mount_portal",
    "portal_error_page",
    "portal_router",
]
