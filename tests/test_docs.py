"""The documentation stays true: the parse format in step with the shared specification,
the architecture drawing in step with the import-linter contracts, the README linking both."""

import json
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC = ROOT.parent / "shared" / "spec" / "import-format.md"


def _example(markdown: str) -> dict:
    block = re.search(r"```json\n(.*?)\n```", markdown, re.S)
    assert block, "no JSON example"
    return json.loads(block.group(1))


def _fields(document: dict) -> set[str]:
    task = document["tasks"][0]
    return {
        *(f"plan.{k}" for k in document["plan"]),
        *(f"sections[].{k}" for k in document["sections"][0]),
        *(f"tasks[].{k}" for k in task),
        *(f"milestones[].{k}" for k in task["milestones"][0]),
        *(f"indicators[].{k}" for k in task["indicators"][0]),
        *document,
    }


def test_the_import_format_names_every_field_of_the_shared_specification():
    if not SHARED_SPEC.exists():
        pytest.skip("../shared is not beside this checkout")
    ours = _fields(_example((ROOT / "docs" / "import-format.md").read_text("utf-8")))
    theirs = _fields(_example(SHARED_SPEC.read_text("utf-8")))
    assert theirs - ours == set()


def test_the_import_format_example_is_what_the_parser_writes():
    from imports.parsing import parse_bytes

    example = _example((ROOT / "docs" / "import-format.md").read_text("utf-8"))
    source = "\n".join(
        [
            example["plan"]["issuer"],
            example["plan"]["title"],
            "一、提升医疗服务能力",
            "（二）基层卫生",
            "4.推进紧密型县域医共体建设。6月底前完成年度评估，每千人口执业医师数达到3.20。（市卫生健康委、市医保局）",
        ]
    )
    parsed = parse_bytes(source.encode("utf-8"), "plan.txt")
    task, expected = parsed["tasks"][0], example["tasks"][0]
    assert parsed["sections"] == example["sections"]
    for key in ("section", "number", "heading", "owners", "milestones"):
        assert task[key] == expected[key], key
    assert [(i["name"], i["comparator"], i["target"]) for i in task["indicators"]] == [
        (i["name"], i["comparator"], i["target"]) for i in expected["indicators"]
    ]


def test_the_architecture_drawing_lists_the_layers_the_linter_enforces():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    drawing = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    drawn = [
        name.strip()
        for line in drawing.split("```")[1].splitlines()
        if re.match(r"^ [a-z]", line)
        for name in re.split(r"\s{2,}", line.strip())[0].split("│")
    ]
    expected = [name.strip() for layer in layers for name in layer.split("|")]
    assert drawn == expected


def test_the_readme_links_the_documentation():
    readme = (ROOT / "README.md").read_text("utf-8")
    for page in ("docs/design.md", "docs/import-format.md", "docs/architecture.md", "docs/security.md"):
        assert page in readme
        assert (ROOT / page).exists()
