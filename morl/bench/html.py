"""The bench report as one self-contained HTML file (tables and figures inline, no server, no
network): a converter for the small Markdown subset :func:`morl.bench.report.report` writes
(headings, paragraphs, pipe tables, bullet lists, images of files in the bench directory)."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path

_IMAGE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<src>[^)]+)\)$")
_STYLE = """body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:0.9em}th,td{border:1px solid #bbb;padding:4px 8px;
text-align:left}th{background:#eee}img{max-width:100%}code{background:#f4f4f4;padding:0 3px}"""


def _cells(line: str) -> list[str]:
    return [html.escape(c.strip()) for c in line.strip().strip("|").split("|")]


def to_html(markdown: str, folder: str | os.PathLike[str], title: str = "Bench report") -> str:
    """HTML of ``markdown``; images (files in ``folder``) are embedded as data URIs."""
    body: list[str] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line:
            i += 1
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
            i += 1
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            head, data = rows[0], rows[2:]  # rows[1] is the |---| separator
            table = ["<table>", "<tr>" + "".join(f"<th>{c}</th>" for c in _cells(head)) + "</tr>"]
            table += ["<tr>" + "".join(f"<td>{c}</td>" for c in _cells(r)) + "</tr>" for r in data]
            body.append("\n".join([*table, "</table>"]))
        elif match := _IMAGE.match(line):
            path = Path(folder) / match["src"]
            encoded = base64.b64encode(path.read_bytes()).decode("ascii")
            body.append(f'<p><img alt="{html.escape(match["alt"])}" src="data:image/png;base64,{encoded}"></p>')
            i += 1
        elif line.startswith("- "):
            items = []
            while i < len(lines) and lines[i].startswith("- "):
                items.append(f"<li>{html.escape(lines[i][2:])}</li>")
                i += 1
            body.append("<ul>" + "".join(items) + "</ul>")
        else:
            body.append(f"<p>{html.escape(line)}</p>")
            i += 1
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")  # fmt: skip
