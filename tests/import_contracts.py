"""An import-linter contract of the project's own: only the web adapters read the request or the logged-in user.

import-linter sees modules, not names: `from flask import request` is an import of `flask` like any other. This
contract reads each module's source for the names it lists ("flask.request": `request` taken from `flask`, or
`flask.request` spelled out) as well as for the modules it lists ("flask_login"). Adapters are the modules whose
last name matches `adapter_names` (views, api, sockets, ...) and those under `adapter_modules`.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
from pathlib import Path

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _uses(tree: ast.AST, names: set[str]) -> list[tuple[str, int]]:
    """The (name, line) of each listed name the module imports or spells out."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names
                      if any(alias.name == name or alias.name.startswith(name + ".") for name in names)]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if any(node.module == name or node.module.startswith(name + ".") for name in names):
                found.append((node.module, node.lineno))
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names
                      if f"{node.module}.{alias.name}" in names]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and f"{node.value.id}.{node.attr}" in names):
            found.append((f"{node.value.id}.{node.attr}", node.lineno))
    return found


class AdaptersOnlyContract(Contract):
    """Only adapters import `names` (modules such as flask_login, or names such as flask.request)."""

    type_name = "adapters_only"

    names = fields.SetField(subfield=fields.StringField())
    adapter_names = fields.SetField(subfield=fields.StringField())
    adapter_modules = fields.SetField(subfield=fields.StringField(), required=False, default=set())

    def _is_adapter(self, module: str) -> bool:
        last = module.rsplit(".", 1)[-1]
        if any(fnmatch.fnmatchcase(last, pattern) for pattern in self.adapter_names):  # type: ignore
            return True
        return any(module == prefix or module.startswith(prefix + ".")
                   for prefix in self.adapter_modules)  # type: ignore

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        names = set(self.names)  # type: ignore
        roots = {module.split(".")[0] for module in graph.modules if not graph.is_module_squashed(module)}
        broken = []
        for module in sorted(graph.modules):
            if graph.is_module_squashed(module) or self._is_adapter(module):
                continue
            spec = importlib.util.find_spec(module) if module.split(".")[0] in roots else None
            if spec is None or not spec.origin or not spec.origin.endswith(".py"):
                continue
            tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
            broken += [(module, name, line) for name, line in _uses(tree, names)]
        return ContractCheck(kept=not broken, warnings=None, metadata={"broken": broken})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, name, line in check.metadata["broken"]:
            output.print_error(f"{module} (line {line}) uses {name}, which only adapters may use.", bold=False)
            output.new_line()
