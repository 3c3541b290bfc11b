"""What the signed-in token may do on the desk, in words, and why a control is missing.

The rules are the tokens' own (``service.platform.tokens``: roles ``editor`` < ``admin``,
an editor token may be a language desk); this only says them, so an editor who misses a
button learns which token would show it instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.platform import languages
from service.platform.tokens import Principal

ADMIN_COMMAND = 'localise tokens create "NAME" --role admin'


@dataclass(frozen=True)
class Access:
    role: str
    scope: str  # "every language" or the desk's languages in words
    may: list[str]
    may_not: list[str]


def _names(codes: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"{languages.english_name(code)} ({code})" for code in codes)


def describe(principal: Principal) -> Access:
    scoped = principal.languages is not None
    scope = f"the desk of {_names(principal.languages)}" if scoped else "every language"
    may = ["request, retry, post-edit, publish and unpublish translations"
           + (f" in {_names(principal.languages)}" if scoped else ""),
           "export XLIFF of any language" + ("; import it for your languages" if scoped
                                             else " and import it back")]
    may_not = []
    if scoped:
        may_not.append("changing other languages needs an editor of that language "
                       "(or one without a language scope)")
        may_not.append("changing an original (a new revision) needs an editor without "
                       "a language scope")
    if principal.can("admin"):
        may.append("take articles down and keep the glossary")
    else:
        may_not.append(f"take-downs and the glossary need an admin token ({ADMIN_COMMAND})")
    return Access(principal.role, scope, may, may_not)


def why_not(principal: Principal, code: str, action: str = "changing") -> str:
    """Why ``principal`` has no control to change ``code`` (empty when it has)."""
    if principal.may_change(code):
        return ""
    return f"{action} needs an editor of {code} ({languages.english_name(code)})"
