"""Helpers the browser walks share."""

from __future__ import annotations

from playwright.sync_api import Error, Page


def reload(page: Page, attempts: int = 3) -> None:
    """Reload the page, as a person pressing F5. A page that follows a request reloads itself
    when the request ends; when that reload starts while ours is on its way, Chromium aborts
    ours (net::ERR_ABORTED) and the page is being loaded anyway: ask again once it has."""
    for attempt in range(attempts):
        try:
            page.reload()
            return
        except Error as error:
            if "ERR_ABORTED" not in str(error) or attempt == attempts - 1:
                raise
            page.wait_for_load_state()
