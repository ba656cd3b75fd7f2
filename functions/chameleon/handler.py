"""chameleon: FunctionBench's chameleon — render a rows x cols HTML table with a page template.

The template is compiled once per process (Chameleon turns it into Python code in memory; no
cache directory is needed on the read-only root), so the first call also pays the compile.
"""
import hashlib
import resource
import time

from chameleon import PageTemplate

TEMPLATE = """\
<table xmlns:tal="http://xml.zope.org/namespaces/tal">
  <tr tal:repeat="row rows">
    <td tal:repeat="cell row" tal:content="cell" tal:attributes="class python: 'odd' if repeat['cell'].odd else None"/>
  </tr>
</table>
"""

_template = None


def handle(event):
    global _template
    rows = int(event.get("rows", 100))
    cols = int(event.get("cols", 300))

    t0 = time.perf_counter()
    if _template is None:
        _template = PageTemplate(TEMPLATE)
    t1 = time.perf_counter()
    table = [["%d.%d" % (r, c) for c in range(cols)] for r in range(rows)]
    html = _template(rows=table)
    t2 = time.perf_counter()
    return {
        "rows": rows,
        "cols": cols,
        "html_chars": len(html),
        "sha256": hashlib.sha256(html.encode()).hexdigest(),
        "compile_ms": round((t1 - t0) * 1000, 3),
        "render_ms": round((t2 - t1) * 1000, 3),
        "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
