"""The documentation stays true: the supported list matches the registry, the README example runs."""
import contextlib
import io
import pathlib
import re
import runpy

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
