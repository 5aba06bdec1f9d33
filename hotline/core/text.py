"""Control characters in stored and emitted text (issue 23.2): one rule for intake and for XML output.

A control character (U+0000–U+001F except tab, line feed and carriage return; U+007F–U+009F), a lone
surrogate or a non-character U+FFFE/U+FFFF carries nothing a citizen meant to say, and most of them may not
appear in an XML 1.0 document at all. Intake strips them from every appeal, whatever the channel
(``hotline.tickets.validation.validate_appeal``), and the Open311 XML writer strips them from whatever else
it emits (staff answers, names of units and categories), so every answer parses.
"""

from __future__ import annotations

import re

CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def strip_control(text: str | None) -> str | None:
    """``text`` without control characters (tab, line feed and carriage return stay)."""
    if not text:
        return text
    return CONTROL_CHARS.sub("", text)
