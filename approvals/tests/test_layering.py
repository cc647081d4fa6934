"""The arrows of style.md, read from the real source files: views -> services, read side -> models.

Each rule parses every module of the app with `ast` and names the offending
imports, so a backward arrow fails here with the file and line to fix.
"""

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1]
PACKAGE = APP.name


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or a name inside one)
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target}"


def module_name(path: Path, *, root: Path = APP.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, *, root: Path = APP.parent) -> list[Import]:
    module = module_name(path, root=root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from approvals import views` imports a module too: keep each name beside its base.
            found += [Import(module, f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return found


def app_modules() -> list[Path]:
    return sorted(path for path in APP.rglob("*.py") if "migrations" not in path.parts)


def is_view_module(dotted: str) -> bool:
    parts = dotted.split(".")
    return parts[0] == PACKAGE and any(part == "views" or part.endswith("_views") for part in parts[1:])


def is_test_module(dotted: str) -> bool:
    return dotted.startswith(f"{PACKAGE}.tests")


def imports_a_view_module(target: str) -> bool:
    # `from approvals.team_views import x` and `from approvals import views` both name a view module.
    parts = target.split(".")
    return any(is_view_module(".".join(parts[: n + 1])) for n in range(1, len(parts)))


def view_imports_outside_views() -> list[Import]:
    """Imports of a view module from a module that is not one (URLconfs route to views, tests call them)."""
    return [
        found
        for path in app_modules()
        for found in imports_of(path)
        if not is_view_module(found.module)
        and not is_test_module(found.module)
        and found.module.split(".")[-1] != "urls"
        and imports_a_view_module(found.target)
    ]


def analytics_imports_of_the_admin() -> list[Import]:
    return [
        found
        for path in (APP / "analytics").rglob("*.py")
        for found in imports_of(path)
        if found.target == f"{PACKAGE}.admin" or found.target.startswith(f"{PACKAGE}.admin.")
    ]


def templatetag_imports_of_views() -> list[Import]:
    return [
        found
        for path in (APP / "templatetags").rglob("*.py")
        for found in imports_of(path)
        if imports_a_view_module(found.target)
    ]


def templatetag_queries() -> list[str]:
    """`Model.objects` in a template tag: a query run while the template renders."""
    return [
        f"{module_name(path)}:{node.lineno} uses {ast.unparse(node)}"
        for path in (APP / "templatetags").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "objects"
    ]


def selector_imports_of_services() -> list[Import]:
    """The read side reads: it never imports what writes review state (claims are taken, decisions made)."""
    services = (f"{PACKAGE}.claims", f"{PACKAGE}.decisions")
    return [
        found
        for path in (APP / "selectors").rglob("*.py")
        for found in imports_of(path)
        if any(found.target == service or found.target.startswith(f"{service}.") for service in services)
    ]


def imports_between_test_modules() -> list[Import]:
    """A test module imports shared helpers and fixtures (conftest, factories, *_fixtures), never another
    test module: what two modules share belongs in a helper module both import."""
    return [
        found
        for path in (APP / "tests").rglob("test_*.py")
        for found in imports_of(path)
        if found.target.startswith(f"{PACKAGE}.tests.")
        and any(part.startswith("test_") for part in found.target.split(".")[2:])
    ]


RULES = {
    "no module outside views imports a view module": view_imports_outside_views,
    "analytics does not import the admin": analytics_imports_of_the_admin,
    "template tags do not import views": templatetag_imports_of_views,
    "template tags run no queries": templatetag_queries,
    "the read side imports no service": selector_imports_of_services,
    "test modules import no other test module": imports_between_test_modules,
}


@pytest.mark.parametrize("rule", RULES, ids=list(RULES))
def test_the_arrows_point_one_way(rule):
    assert [str(offence) for offence in RULES[rule]()] == []


def test_the_rules_see_the_arrows_they_forbid(tmp_path):
    """The checks find what they are meant to find (a relative import of a view module, an aliased admin
    import, `from approvals import revision_views`), and let a view module import another."""
    cases = {
        "selectors/widget.py": "from ..team_views import queue_extras\n",
        "analytics/widget.py": "import approvals.admin.costs as costs\n",
        "templatetags/widget_tags.py": "from approvals import revision_views\n",
        "files/views.py": "from approvals.views import queue\n",
    }
    targets = {}
    for relative, source in cases.items():
        fake = tmp_path / PACKAGE / relative
        fake.parent.mkdir(parents=True, exist_ok=True)
        fake.write_text(source)
        [found] = imports_of(fake, root=tmp_path)
        targets[relative] = found
    assert targets["selectors/widget.py"].target == f"{PACKAGE}.team_views.queue_extras"
    assert imports_a_view_module(targets["selectors/widget.py"].target)
    assert targets["analytics/widget.py"].target == f"{PACKAGE}.admin.costs"
    assert imports_a_view_module(targets["templatetags/widget_tags.py"].target)
    assert is_view_module(targets["files/views.py"].module)
    assert not imports_a_view_module(f"{PACKAGE}.selectors.review")
    assert not imports_a_view_module(f"{PACKAGE}.reporting.periods")
