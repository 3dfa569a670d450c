"""Griffe extension: Sphinx cross-reference roles in docstrings shown as code in the API pages.

cnnlab's docstrings are Google style in Markdown, but some name other objects the Sphinx way
(``:class:`Solver```, ``:func:`~cnnlab.metrics.accuracy```), which Markdown would show with the
role's colons. Each such role becomes a code span of the name (``~`` keeps its last part).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj|const):`(~?)([^`]+)`")


def strip_roles(text: str) -> str:
    """``text`` with every Sphinx role replaced by a Markdown code span of its target."""

    def code(match: re.Match[str]) -> str:
        tilde, target = match.groups()
        return f"`{target.rsplit('.', 1)[-1] if tilde else target}`"

    return ROLE.sub(code, text)


class SphinxRoles(griffe.Extension):
    """Rewrite the roles of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Called for each module, class, function and attribute found."""
        if obj.docstring is not None:
            obj.docstring.value = strip_roles(obj.docstring.value)
