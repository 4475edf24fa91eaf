"""Server-rendered pages: Jinja2 with autoescape, the folder's templates/ over the packaged ones.

The stylesheet (`site/site.css`, overridable like any template) is served as one file with a
version in its URL, so pages stay small and browsers cache it for good.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.config import Settings


STYLESHEET_PATH = "/static/site.css"


class Pages:
    """Renders the web app's templates (`site/*.html`) with the newsletter's common context."""

    def __init__(self, settings: Settings) -> None:
        from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined,
                            select_autoescape)

        loader = ChoiceLoader([FileSystemLoader(str(settings.templates_dir)),
                               PackageLoader("digest", "templates")])
        # StrictUndefined, as for the email: a misspelt or missing variable is an error the
        # tests catch, not an empty spot on a live page
        self.env = Environment(loader=loader, autoescape=select_autoescape(disabled_extensions=("txt", "css"), default=True,
                                                                         default_for_string=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.globals.update(newsletter={"name": settings.name, "tagline": settings.tagline,
                                            "postal_address": settings.postal_address,
                                            "base_url": settings.base_url})

        from digest.view import site_view

        self.env.globals["site"] = site_view(settings)
        self.stylesheet = self.env.get_template("site/site.css").render().encode("utf-8")
        version = hashlib.sha256(self.stylesheet).hexdigest()[:12]
        self.env.globals["stylesheet"] = f"{STYLESHEET_PATH}?v={version}"

    def render(self, template: str, /, **context: Any) -> str:
        return self.env.get_template(template).render(**context)
