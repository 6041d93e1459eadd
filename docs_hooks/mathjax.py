"""MkDocs hook: ship MathJax with the site, so that every formula renders with no network.

MathJax 3 comes from PyPI (``django-static-mathjax``, in the ``docs`` extra: MathJax's own ``es5`` build as plain
files, with no Django code needed to use them). After each build the hook copies that build into
``<site_dir>/assets/mathjax/``, which ``mkdocs.yml`` loads; nothing is fetched when a reader opens a page.
"""

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

# The combined bundles other than the one mkdocs.yml loads: not needed by the site (its TeX extensions, output
# fonts, menu and accessibility parts load on demand from the folders next to tex-chtml.js, which stay).
_UNUSED_BUNDLES = (
    "tex-mml-chtml.js",
    "tex-mml-svg.js",
    "tex-svg.js",
    "tex-svg-full.js",
    "tex-chtml-full.js",
    "tex-chtml-full-speech.js",
    "mml-chtml.js",
    "mml-svg.js",
    "node-main.js",
)


def mathjax_es5() -> Path:
    """The folder of MathJax's ``es5`` build installed by ``django-static-mathjax``."""
    try:
        root = resources.files("mathjax")
    except ModuleNotFoundError as error:
        raise PluginError(
            "MathJax is not installed: `pip install django-static-mathjax` (in the `docs` extra) ships it with the site"
        ) from error
    es5 = Path(str(root)) / "static" / "mathjax" / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise PluginError(f"{es5} has no tex-chtml.js: reinstall django-static-mathjax")
    return es5


def on_post_build(config: Any, **kwargs: Any) -> None:
    target = Path(config["site_dir"]) / "assets" / "mathjax"
    shutil.copytree(mathjax_es5(), target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*_UNUSED_BUNDLES))
