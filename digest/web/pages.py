"""Server-rendered pages: Jinja2 with autoescape, the folder's templates/ over the packaged ones."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.config import Settings


class Pages:
    """Renders the web app's templates (`site/*.html`) with the newsletter's common context."""

    def __init__(self, settings: Settings) -> None:
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

        loader = ChoiceLoader([FileSystemLoader(str(settings.templates_dir)),
                               PackageLoader("digest", "templates")])
        self.env = Environment(loader=loader, autoescape=select_autoescape(disabled_extensions=("txt",), default=True,
                                                                         default_for_string=True),
                               trim_blocks=True, lstrip_blocks=True, auto_reload=False)
        self.env.globals.update(newsletter={"name": settings.name, "tagline": settings.tagline,
                                            "postal_address": settings.postal_address,
                                            "base_url": settings.base_url})

    def render(self, template: str, /, **context: Any) -> str:
        return self.env.get_template(template).render(**context)
