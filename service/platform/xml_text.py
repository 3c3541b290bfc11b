"""Text that XML 1.0 can carry.

XML 1.0 allows tab, line feed, carriage return and the characters from U+0020 on, except
the surrogates and U+FFFE/U+FFFF; a C0 control character in a feed, sitemap, XLIFF or TMX
file makes it malformed (lxml refuses to write it; a reader refuses to parse it).  Input
with one is refused at the door (``service.content.intake``: 400 ``invalid_text`` naming
the code point), and every writer of XML passes stored text through :func:`xml_safe`, so
text stored before the check cannot break a feed or an export either.  C1 controls
(U+0080-U+009F) are legal XML 1.0 and are kept.
"""

from __future__ import annotations

import re

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def first_not_xml(text: str) -> str | None:
    """The first character of ``text`` that XML 1.0 cannot carry, or None."""
    found = NOT_XML.search(text)
    return found.group() if found else None


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return NOT_XML.sub("", text)
