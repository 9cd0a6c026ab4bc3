"""bench/RESULTS.md, the one record of every benchmark's figures.

`run.py` rewrites the top of the file (the foundation's request times) and keeps everything
below FINDINGS_MARKER: the analysis written by hand and the sections the other benchmarks
write with `write_section`, each under its own `## ` heading.
"""
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
FINDINGS_MARKER = "<!-- Below: the analysis, kept by run.py across runs. -->"


def write_section(heading, section):
    """Replace the section that starts with `heading` (a `## ` line), or add it at the end.

    The section must start with its heading and runs to the next `## ` heading, so a
    benchmark's own `###` subsections stay with it.
    """
    assert section.startswith(heading + "\n"), "a section starts with its heading"
    text = RESULTS.read_text() if RESULTS.exists() else f"# Benchmark results\n\n{FINDINGS_MARKER}\n"
    if FINDINGS_MARKER not in text:  # only run.py's part so far: sections go below it
        text = text.rstrip("\n") + f"\n\n{FINDINGS_MARKER}\n"
    start = text.find(heading + "\n", text.index(FINDINGS_MARKER))
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section.rstrip("\n") + "\n" + (text[end:] if end != -1 else "")
    RESULTS.write_text(text.rstrip("\n") + "\n")
    return RESULTS
