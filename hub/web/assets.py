"""The console's stylesheet and script (``static/``), served as files: the page's
Content-Security-Policy allows no inline code."""

from importlib import resources

_STATIC = resources.files(__package__) / "static"
CSS = (_STATIC / "console.css").read_text(encoding="utf-8")
JS = (_STATIC / "console.js").read_text(encoding="utf-8")
