"""medcurate's own fixed prompts (the gate's verifier: `<name>.<version>.txt`, sections `=== system` / `=== user`,
`$name` placeholders); task prompts are Jinja2 templates (curation/synth/recipe/templates.py, the presets' folders).

Source text is always put between tags; `delimit()` breaks any closing tag inside it, so a passage cannot end its
own data block and smuggle instructions into the prompt.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from string import Template

DIR = Path(__file__).resolve().parent
_SECTION = re.compile(r"^=== (system|user|assistant)\s*$", re.MULTILINE)
_TAG = re.compile(r"</?\s*(source|question|answer|options|reasoning)\s*>", re.IGNORECASE)


@functools.cache
def load(prompt_id: str) -> list[tuple[str, Template]]:
    path = DIR / f"{prompt_id}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt template {path.name} in {DIR}")
    parts = _SECTION.split(path.read_text())
    return [(role, Template(body.strip())) for role, body in zip(parts[1::2], parts[2::2], strict=True)]


def delimit(text: str) -> str:
    """Neutralise our delimiter tags inside untrusted text: '</source>' becomes '</ source>' (visible, inert)."""
    return _TAG.sub(lambda m: m.group(0).replace("<", "< ").replace("< /", "</ "), text)


def render(prompt_id: str, **values: object) -> list[dict[str, str]]:
    """Chat messages for a template; text values are delimited, a missing placeholder is an error."""
    vals = {k: delimit(v) if isinstance(v, str) else str(v) for k, v in values.items()}
    return [{"role": role, "content": t.substitute(vals)} for role, t in load(prompt_id)]
