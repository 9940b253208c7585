"""The README's two commands are the ones CI and a new user run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split("#")[0].strip() for line in block.strip().splitlines()]


def test_readme_opens_with_two_commands():
    text = (ROOT / "README.md").read_text().splitlines()
    assert text[0].startswith("# ")
    assert text[2] == "```bash"
    commands = readme_commands()
    assert len(commands) == 2
    assert "htsr report --example minilm" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci
