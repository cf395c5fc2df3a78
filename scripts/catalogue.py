"""Fill translations into the English catalogue without rewrapping it.

    python scripts/catalogue.py '按层级审核=Review by tier' '流程=Stages'

Each argument is ``msgid=msgstr``; the entry's fuzzy flag and ``#|`` previous-msgid lines are
removed. Run ``manage.py makemessages`` first and ``compilemessages`` after (docs/i18n.md).
"""

import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "edupilot/locale/en/LC_MESSAGES/django.po"


def po_quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def main(pairs: list[str]) -> int:
    text = PO.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    missing = []
    for pair in pairs:
        msgid, _, msgstr = pair.partition("=")
        needle = f'msgid "{po_quote(msgid)}"\n'
        for i, block in enumerate(blocks):
            if needle in block + "\n":
                lines = [
                    ln for ln in block.split("\n") if not ln.startswith("#|") and ln != "#, fuzzy"
                ]
                lines = [re.sub(r"^#, fuzzy, ", "#, ", ln) for ln in lines]
                head = lines[: lines.index(needle.rstrip("\n")) + 1]
                blocks[i] = "\n".join([*head, f'msgstr "{po_quote(msgstr)}"'])
                break
        else:
            missing.append(msgid)
    PO.write_text("\n\n".join(blocks), encoding="utf-8")
    for m in missing:
        print(f"not in the catalogue: {m}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
