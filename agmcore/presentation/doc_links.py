"""The repository's notes (docs/*.md) as pages of the app: a mention of docs/<name>.md in UI text
becomes a link to the app's Notes page (app_pages/notes.py), which renders that file, so a browser
user can open what the text cites."""
from __future__ import annotations

import functools
import os
import re
from typing import List, Optional, Tuple

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs")
PAGE = "notes"  # the Notes page's URL path
MENTION = re.compile(r"(?<![\[/\w])`?docs/([\w-]+)\.md`?")  # in code quotes too: the link replaces them
LOCAL_LINK = re.compile(r"\]\(([\w-]+)\.md(#[\w-]*)?\)")
IMAGE = re.compile(r"^!\[([^\]]*)\]\(([\w.-]+\.png)\)\s*$")


@functools.lru_cache(maxsize=1)
def notes() -> Tuple[str, ...]:
    """The names of the notes there are (docs/<name>.md), listed once: `linked` runs at every
    refresh of a race's captions."""
    if not os.path.isdir(DOCS):
        return ()
    return tuple(sorted(f[:-3] for f in os.listdir(DOCS) if f.endswith(".md")))


def link(name: str) -> str:
    """The app's relative link to note `name` (from any page: every page sits at the root)."""
    return f"{PAGE}?doc={name}"


def linked(text: str) -> str:
    """`text` (Markdown) with each docs/<name>.md that exists written as a link to its Notes page."""
    names = set(notes())
    return MENTION.sub(lambda m: f"[docs/{m.group(1)}.md]({link(m.group(1))})" if m.group(1) in names else m.group(0),
                       text)


def note_text(name: str) -> Optional[str]:
    """Note `name`'s Markdown, with its links to other notes, and its mentions of them, pointing at
    their Notes pages; None if there is no such note."""
    if name not in notes():
        return None
    with open(os.path.join(DOCS, f"{name}.md"), encoding="utf-8") as f:
        text = f.read()
    return linked(LOCAL_LINK.sub(lambda m: f"]({link(m.group(1))}{m.group(2) or ''})", text))


def blocks(text: str) -> List[tuple]:
    """The note as ("markdown", text) and ("image", path, caption) blocks, in order."""
    out, lines = [], []
    for line in text.splitlines():
        image = IMAGE.match(line)
        if image and os.path.exists(os.path.join(DOCS, image.group(2))):
            if lines:
                out.append(("markdown", "\n".join(lines)))
                lines = []
            out.append(("image", os.path.join(DOCS, image.group(2)), image.group(1)))
        else:
            lines.append(line)
    if lines:
        out.append(("markdown", "\n".join(lines)))
    return out
