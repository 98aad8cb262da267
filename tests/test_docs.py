"""The documentation stays true: the supported list matches the registry, the README example runs."""
import contextlib
import importlib
import io
import os
import pathlib
import re
import runpy
import sys

import sourcediff as sd
from sourcediff.rules import RULES
from sourcediff.rules.catalog import catalog

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_supported_page_matches_the_registry():
    page = (ROOT / "docs" / "supported.md").read_text()
    assert page == catalog(), "regenerate: python -m sourcediff.rules.catalog > docs/supported.md"
    for rule in RULES.values():
        if rule.inactive or any(t.scope.get("__name__", "").startswith("sourcediff.") for t in rule.tangents.values()):
            assert f"`{rule.name}`" in page


def test_every_rule_has_a_tangent_or_is_inactive():
    for rule in RULES.values():
        assert rule.inactive != bool(rule.tangents), rule.name


def test_readme_examples_show_what_sourcediff_generates(tmp_path):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    example, shown, gradient = blocks[0], blocks[1], blocks[2]
    script = tmp_path / "readme_example.py"
    script.write_text(example)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        scope = runpy.run_path(str(script))
    printed = out.getvalue().splitlines()
    for line in shown.splitlines():
        if line.strip() != "...":
            assert line in printed
    gradient_source = scope["sd"].vjp(scope["loss"], wrt="w").source.splitlines()
    for line in gradient.splitlines():
        assert line in gradient_source


GENERATED = re.compile(r"<!-- generated: (\w+)\.(\w+) (jvp|vjp|forward_gradient) ([\w,]+)((?: \w+=\w+)*) -->\n"
                       r"```python\n(.*?)```", re.S)


def test_generated_code_in_the_docs_is_current():
    """Each block marked `<!-- generated: module.function mode wrt [option=value ...] -->` is what
    sourcediff generates (options are integer keyword arguments of the mode, e.g. directions=8)."""
    sys.path.insert(0, str(ROOT / "examples"))

    def generated(match):
        module, function, mode, wrt, options = match.group(1, 2, 3, 4, 5)
        fn = getattr(importlib.import_module(module), function)
        keywords = {k: int(v) for k, v in (option.split("=") for option in options.split())}
        source = getattr(sd, mode)(fn, wrt=tuple(wrt.split(",")) if "," in wrt else wrt, **keywords).source
        return match.group(0)[:match.start(6) - match.start(0)] + source + "```"

    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text()
        current = GENERATED.sub(generated, text)
        if os.environ.get("SOURCEDIFF_UPDATE_DOCS"):
            page.write_text(current)
            continue
        assert current == text, f"{page.name}: regenerate with SOURCEDIFF_UPDATE_DOCS=1 python -m pytest tests/test_docs.py"
