"""The documentation stays true: the supported list matches the registry, every example runs, and\nthe generated code it shows is what sourcediff generates."""
import contextlib
import importlib
import inspect
import io
import os
import pathlib
import re
import runpy
import shlex
import subprocess
import sys

import pytest

import sourcediff as sd
from sourcediff import cli
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
    """Or, for a helper templates call, declares only where it is linear (second_order_gaps lists those
    that have no tangent yet)."""
    for rule in RULES.values():
        assert rule.inactive != bool(rule.tangents) or not rule.inactive and rule.linear is not False, rule.name


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


GENERATED = re.compile(r"<!-- generated: (\w+)\.(\w+) (jvp|vjp|forward_gradient|hvp) ([\w,]+)((?: \w+=\w+)*) -->\n"
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


BLOCK = re.compile(r"(?:<!-- (\w+)(?:: ([^>]*?))? -->\n)?```(\w*)\n(.*?)```", re.S)
PAGES = sorted((ROOT / "docs").glob("*.md"))


def assert_shown(shown, printed):
    """Every line of a block showing output (but `...`) is a line that was printed."""
    printed_lines = printed.splitlines()
    for line in shown.splitlines():
        if line.strip() != "...":
            assert line in printed_lines, f"{line!r} was not printed"


def run_shell_block(block):
    """Run the block's `sourcediff ...` commands: their output (paths relative to the current folder),
    one per command. A command expected to fail ends in `# exits N`."""
    output = []
    for line in block.splitlines():
        command, _, expected = line.partition("# exits ")
        if not command.startswith("sourcediff "):
            continue
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(shlex.split(command)[1:])
        assert status == int(expected or 0), f"{command}: exit status {status}\n{err.getvalue()}"
        output.append((out.getvalue() + err.getvalue()).replace(f"{os.getcwd()}{os.sep}", ""))
    return output


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_example_in_the_docs_runs(page, tmp_path, monkeypatch):
    """Python blocks run in order in one namespace (each from a file `example.py`, so that sourcediff
    can read it); `sourcediff` commands run in a folder holding examples/; a block marked `output`
    shows what the blocks before it printed, `source: module.function` is that function's source,
    `excerpt: path` is text of that file, and `file: name` is written to that file for the commands. Blocks marked `generated` are checked above. The folder is
    the current one, and first on the module path: modules the commands write can be imported."""
    monkeypatch.setattr(sys, "path", [str(tmp_path), str(ROOT / "examples")] + sys.path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace, printed = {"__name__": "docs_example"}, []
    for number, match in enumerate(BLOCK.finditer(page.read_text())):
        marker, argument, language, block = match.groups()
        if marker == "output":
            assert_shown(block, "\n".join(printed))
        elif marker == "source":
            module, function = argument.rsplit(".", 1)
            assert block == inspect.getsource(getattr(importlib.import_module(module), function))
        elif marker == "file":
            (tmp_path / argument).write_text(block)
        elif marker == "excerpt":
            assert block in (ROOT / argument).read_text()
        elif marker is None and language == "python":
            script = tmp_path / str(number) / "example.py"
            script.parent.mkdir()
            script.write_text(block)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block, str(script), "exec"), namespace)
            printed.append(out.getvalue().replace(f"{script.parent}{os.sep}", ""))
        elif marker is None and language == "sh":
            printed.extend(run_shell_block(block))


def test_the_site_builds_in_strict_mode(tmp_path):
    """`mkdocs build --strict` (what publishes docs/): no broken link, no page missing from the nav."""
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                             str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "cli" / "index.html").exists()


def test_the_readme_setup_runs_the_main_job_through_the_command(tmp_path, monkeypatch):
    """The first set-up command's `sourcediff` steps succeed (writing into tmp_path, not /tmp)."""
    setup = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    commands = [step.strip() for step in setup.split("&&") if step.strip().startswith("sourcediff ")]
    assert [shlex.split(c)[1] for c in commands] == ["emit", "check"]
    monkeypatch.chdir(ROOT)
    output = run_shell_block("\n".join(re.sub(r"-o \S+", f"-o {tmp_path / 'loss_grad.py'}", c) for c in commands))
    assert output[0].startswith("wrote ") and output[1].endswith("all 6 comparisons agree\n")
