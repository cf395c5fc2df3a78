"""`edupilot workflows`: every lifecycle's transition table, as Mermaid diagrams and tables.

`--write` puts the result into docs/architecture.md between its workflow markers; the test
suite fails when the page and the tables disagree.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from edupilot.core.workflow import all_workflows

BEGIN, END = "<!-- workflows:begin -->", "<!-- workflows:end -->"


def render() -> str:
    parts = []
    for wf in all_workflows():
        parts.append(f"### {wf.title or wf.name} (`{wf.name}`, {wf.model_label})")
        parts.append("")
        parts.append("```mermaid")
        parts.append(wf.mermaid())
        parts.append("```")
        parts.append("")
        parts.append("| from | to | transition | service | who | label |")
        parts.append("|---|---|---|---|---|---|")
        for row in wf.table_rows():
            src, dst, name, service, who, label = row
            parts.append(f"| {src} | {dst} | `{name}` | `{service}` | {who} | {label} |")
        parts.append("")
    return "\n".join(parts).strip()


class Command(BaseCommand):
    help = "Print every lifecycle's transition table as a Mermaid diagram; --write updates docs."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="update docs/architecture.md")

    def handle(self, *args, write=False, **options):
        from django.utils import translation

        with translation.override("zh-hans"):
            text = render()
        if not write:
            self.stdout.write(text)
            return
        page = Path(settings.PROJECT_DIR) / "docs" / "architecture.md"
        content = page.read_text(encoding="utf-8")
        if BEGIN not in content or END not in content:
            raise CommandError(f"{page} 中没有 {BEGIN} … {END} 标记")
        head, rest = content.split(BEGIN, 1)
        _old, tail = rest.split(END, 1)
        page.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
        self.stdout.write(f"{page}: 已更新")
