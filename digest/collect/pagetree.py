"""An article page's tree as its reader sees it, prepared for the main-text extractor."""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from lxml.etree import _Element
from lxml.html.defs import block_tags

__all__ = ["reader_view"]

# What a reader does not see: elements hidden by an attribute or an inline style, and the hover cards
# (tooltips, pop-overs, roll-overs) a page keeps inside its paragraphs until the pointer reaches a link.
_STYLE = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz')"  # lower case, no spaces
_HIDDEN_XPATH = (
    f"//body//*[@hidden or @aria-hidden='true' or contains({_STYLE}, 'display:none')"
    f" or contains({_STYLE}, 'visibility:hidden')]"
)
_HOVER_CARD = re.compile(r"(?:^|[\s_-])(?:rollover|tooltip|popover|hovercard|hover-card)(?:$|[\s_-])", re.IGNORECASE)
_PARAGRAPH_ENDS = frozenset({"br", *block_tags})


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


def _lead_paragraph(block: _Element) -> None:
    """The text a block opens with, up to its first line break, made a paragraph: the extractor skips text
    that no element holds when the rest of the block is paragraphs of line breaks."""
    lead = lxml.html.Element("p")
    lead.text, block.text = block.text, None
    for child in list(block):
        if not isinstance(child.tag, str) or child.tag.lower() in _PARAGRAPH_ENDS:
            break
        lead.append(child)  # moves it, with its tail
    block.insert(0, lead)


def reader_view(html: str) -> _Element | str:
    """The page's tree without what its reader does not see (the text around it stays), and with the text a
    block of line-broken paragraphs opens with made a paragraph; the page itself when it does not parse."""
    document = trafilatura.load_html(html)
    if document is None:
        return html
    for element in [*document.xpath(_HIDDEN_XPATH), *_hover_cards(document)]:
        if element.getparent() is not None:
            element.drop_tree()
    for block in document.xpath("//body//div[br and not(p)]"):
        if block.text and block.text.strip():
            _lead_paragraph(block)
    return document
