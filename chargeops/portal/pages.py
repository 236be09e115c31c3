"""The portal's HTML: Jinja2 templates with every value escaped, and the headers each page goes out with.

The pages carry no script and load nothing: their one stylesheet is inline, allowed by its SHA-256 hash
in the Content-Security-Policy, so not even an injected ``<style>`` would apply. Invoices are the
billing renderer's own self-contained document, whose inline style the policy allows by its hash too.
"""

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import jinja2

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("chargeops.portal", "templates"),
    autoescape=True,  # every value is escaped; the templates mark nothing safe
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _style_hash(css: str) -> str:
    digest = hashlib.sha256(css.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _policy(style_source: str) -> str:
    # No script, no frame, no plugin, no external anything; forms post only back here.
    return f"default-src 'none'; style-src {style_source}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


# base.html.j2 puts the rendered portal.css inside <style>…</style>, byte for byte.
CONTENT_SECURITY_POLICY = _policy(_style_hash(_ENVIRONMENT.get_template("portal.css").render()))

# Every page: never stored by a browser or proxy (a link is a key), the link never sent on as a Referer,
# never framed, never sniffed as something else, never indexed.
HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}


def render(template: str, **values: Any) -> str:
    """The page ``template`` (a file in ``templates/``) filled with ``values``, all escaped."""
    return _ENVIRONMENT.get_template(template).render(**values)


def policy_for_document(document: str) -> str:
    """The Content-Security-Policy for a document made elsewhere (an invoice): its own inline styles
    allowed by their hashes, and nothing else."""
    hashes = sorted({_style_hash(css) for css in _STYLE.findall(document)})
    return _policy(" ".join(hashes) or "'none'")
