"""The portal's pages: every template renders escaped, and the Content-Security-Policy allows exactly
the one inline stylesheet the pages carry."""

import base64
import hashlib
import re
from types import SimpleNamespace

from chargeops.portal import pages

STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def style_hash(html: str) -> str:
    [css] = STYLE.findall(html)
    return "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'"


def test_the_policy_allows_the_pages_stylesheet_by_hash_and_nothing_else() -> None:
    html = pages.render("refused.html.j2", title="T", message="M", reason="R", code=410)

    assert f"style-src {style_hash(html)};" in pages.CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in pages.CONTENT_SECURITY_POLICY
    assert "script" not in pages.CONTENT_SECURITY_POLICY
    assert "unsafe" not in pages.CONTENT_SECURITY_POLICY


def test_every_value_is_escaped() -> None:
    markup = '<img src=x onerror="alert(1)">'
    offer = SimpleNamespace(
        site_name=markup,
        inviter=markup,
        subscriber_name=markup,
        chargers=[markup],
        lines=[markup, "At north-1 (<b>):"],
        currency="EUR",
        period=markup,
        id_tags=[markup],
    )

    html = pages.render("invitation.html.j2", offer=offer, email=markup, expires=markup, token="t")

    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert 'action="t/accept"' in html


def test_a_document_made_elsewhere_gets_the_hashes_of_its_own_styles() -> None:
    document = "<html><style>a{}</style><style>b{}</style></html>"

    policy = pages.policy_for_document(document)

    assert policy.count("'sha256-") == 2
    assert "'unsafe-inline'" not in policy
    assert pages.policy_for_document("<p>no style</p>").startswith("default-src 'none'; style-src 'none';")
