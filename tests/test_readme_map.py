"""The README's map of the brand console: every page and API path under a brand is served by the module it names."""

import re

from tests.conftest import PROJECT_ROOT

ROW = re.compile(r"^\| [^|]+ \| `(/brands/[^`]*)` \| `([^`]+\.py)` \| `(/api/v1/brands/[^`]*)` \| `([^`]+\.py)` \|$",
                 re.M)


def _mapped() -> list[tuple[str, str]]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    rows = ROW.findall(readme)
    assert len(rows) >= 10, "the README's brand console map is missing"
    return [(page, module) for page, module, _, _ in rows] + [(api, module) for _, _, api, module in rows]


def _covering(rule: str, mapped: list[tuple[str, str]]) -> str | None:
    """The module of the longest mapped path that `rule` is, or lies below (by whole segments or a file suffix)."""
    best = None
    for path, module in mapped:
        if (rule == path or rule.startswith(path + "/") or rule.startswith(path + ".")) and (
                best is None or len(path) > len(best[0])):
            best = (path, module)
    return None if best is None else best[1]


def _file_of(view) -> str:
    return view.__module__.removeprefix("marketplace.").replace(".", "/") + ".py"


def test_every_brand_path_is_served_by_the_module_the_readme_names(app):
    mapped = _mapped()
    wrong = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/brands/<slug>", "/api/v1/brands/<int:brand_id>")):
            continue
        module = _covering(rule.rule, mapped)
        serving = {_file_of(app.view_functions[other.endpoint]) for other in app.url_map.iter_rules()
                   if other.rule == rule.rule}
        if module not in serving:
            wrong.append(f"{rule.rule}: README says {module}, served by {sorted(serving)}")
    assert wrong == []
