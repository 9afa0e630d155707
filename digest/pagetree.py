"""An article page's tree as its reader sees it, prepared for the main-text extractor."""

from __future__ import annotations

import re

import trafilatura
from lxml.etree import _Element

__all__ = ["reader_view"]

# What a reader does not see: elements hidden by an attribute or an inline style, and the hover cards
# (tooltips, pop-overs, roll-overs) a page keeps inside its paragraphs until the pointer reaches a link.
_STYLE = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz')"  # lower case, no spaces
_HIDDEN_XPATH = (
    f"//body//*[@hidden or @aria-hidden='true' or contains({_STYLE}, 'display:none')"
    f" or contains({_STYLE}, 'visibility:hidden')]"
)
_HOVER_CARD = re.compile(r"(?:^|[\s_-])(?:rollover|tooltip|popover|hovercard|hover-card)(?:$|[\s_-])", re.IGNORECASE)


def _hover_cards(document: _Element) -> list[_Element]:
    """The innermost hover-card elements that hold a link (the outer ones hold the linked name itself)."""
    found = [
        element
        for element in document.xpath("//body//span[@class] | //body//div[@class]")
        if _HOVER_CARD.search(str(element.get("class"))) and element.find(".//a") is not None
    ]
    inner = set(found)
    for element in found:
        inner.difference_update(element.iterancestors())
    return [element for element in found if element in inner]


def reader_view(html: str) -> _Element | str:
    """The page's tree without what its reader does not see (the text around it stays); the page itself when
    it does not parse."""
    document = trafilatura.load_html(html)
    if document is None:
        return html
    for element in [*document.xpath(_HIDDEN_XPATH), *_hover_cards(document)]:
        if element.getparent() is not None:
            element.drop_tree()
    return document
