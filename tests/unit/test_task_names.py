"""Task paths, descendants and names (ctsync.records.tasks): what a ClickTime task is called."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ctsync.config import TaskSyncSettings
from ctsync.records.projects import ProjectSnapshot
from ctsync.records.tasks import TaskSnapshot, descendants, task_name, task_path


def row(task_id: str, title: str | None, parent: str | None = None, project: str = "101") -> dict[str, Any]:
    r: dict[str, Any] = {"id": task_id, "project": project}
    if title is not None:
        r["title"] = title
    if parent is not None:
        r["parent"] = parent
    return r


FAMILY = {
    "1": row("1", "Design"),
    "2": row("2", "Wireframes", "1"),
    "3": row("3", "Home page", "2"),
    "4": row("4", "Build"),
    "5": row("5", "Mock-ups", "1"),
}


def test_task_path_of_a_root_is_its_title() -> None:
    assert task_path("1", FAMILY) == ["Design"]


def test_task_path_of_nested_tasks_runs_from_the_top() -> None:
    assert task_path("2", FAMILY) == ["Design", "Wireframes"]
    assert task_path("3", FAMILY) == ["Design", "Wireframes", "Home page"]


def test_task_path_of_an_unknown_task_is_empty() -> None:
    assert task_path("99", FAMILY) == []


def test_task_path_uses_the_id_when_the_title_is_missing() -> None:
    family = {"1": row("1", None), "2": row("2", "Child", "1")}
    assert task_path("2", family) == ["1", "Child"]


def test_task_path_stops_at_a_parent_outside_the_family() -> None:
    family = {"7": row("7", "Orphan", "999"), "8": row("8", "Leaf", "7")}
    assert task_path("8", family) == ["Orphan", "Leaf"]


def test_task_path_accepts_numeric_parent_ids() -> None:
    family = {"1": {"id": 1, "title": "Top"}, "2": {"id": 2, "title": "Sub", "parent": 1}}
    assert task_path("2", family) == ["Top", "Sub"]


def test_task_path_is_cycle_safe() -> None:
    loop = {"1": row("1", "A", "3"), "2": row("2", "B", "1"), "3": row("3", "C", "2")}
    path = task_path("2", loop)
    assert sorted(path) == ["A", "B", "C"]  # each task once
    assert path[-1] == "B"
    assert task_path("1", {"1": row("1", "Self", "1")}) == ["Self"]


def test_descendants_over_several_levels() -> None:
    assert descendants({"1"}, FAMILY) == {"2", "3", "5"}
    assert descendants({"2"}, FAMILY) == {"3"}
    assert descendants({"3"}, FAMILY) == set()
    assert descendants({"4"}, FAMILY) == set()
    assert descendants({"2", "4"}, FAMILY) == {"3"}
    assert descendants(set(), FAMILY) == set()


def test_descendants_terminates_on_a_cycle() -> None:
    loop = {"1": row("1", "A", "2"), "2": row("2", "B", "1")}
    assert descendants({"1"}, loop) <= {"1", "2"}


def _task(path: list[str], task_id: str = "3", project_id: str = "101") -> TaskSnapshot:
    return TaskSnapshot(id=task_id, title=path[-1], project_id=project_id, path=path)


PROJECT = ProjectSnapshot(id="101", number="P-1042", name="Website relaunch", customer=None)


def test_task_name_with_the_default_template() -> None:
    assert task_name(_task(["Design", "Wireframes"]), PROJECT, TaskSyncSettings()) == "P-1042 · Design › Wireframes"
    assert task_name(_task(["Design"]), PROJECT, TaskSyncSettings()) == "P-1042 · Design"


def test_task_name_without_a_project_uses_the_project_id() -> None:
    assert task_name(_task(["Design"], project_id="101"), None, TaskSyncSettings()) == "101 · Design"


def test_task_name_with_a_custom_template_and_separator() -> None:
    settings = TaskSyncSettings(name_template="{project_name}: {title} [{path}]", path_separator="/")
    assert (
        task_name(_task(["Design", "Wireframes"]), PROJECT, settings)
        == "Website relaunch: Wireframes [Design/Wireframes]"
    )


def test_task_name_does_not_reinterpret_braces_in_titles() -> None:
    assert task_name(_task(["{project_name}", "x{0}"]), PROJECT, TaskSyncSettings()) == "P-1042 · {project_name} › x{0}"


# -- forests --------------------------------------------------------------------------------------------------


@st.composite
def forests(draw: st.DrawFn) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Tasks 1..n where each parent has a smaller id (so no cycles), with their depths."""
    n = draw(st.integers(min_value=1, max_value=30))
    family: dict[str, dict[str, Any]] = {}
    depth: dict[str, int] = {}
    for i in range(1, n + 1):
        parent = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=i - 1))) if i > 1 else None
        title = draw(st.text(min_size=1, max_size=6))
        task_id = str(i)
        family[task_id] = row(task_id, title, str(parent) if parent else None)
        depth[task_id] = depth[str(parent)] + 1 if parent else 0
    # rows arrive in any order
    order = draw(st.permutations(list(family)))
    return {k: family[k] for k in order}, depth


@given(forests())
def test_paths_end_with_the_title_and_are_as_long_as_the_depth(
    forest: tuple[dict[str, dict[str, Any]], dict[str, int]],
) -> None:
    family, depth = forest
    for task_id, r in family.items():
        path = task_path(task_id, family)
        assert path[-1] == r["title"]
        assert len(path) == depth[task_id] + 1
        if "parent" in r:
            assert path[:-1] == task_path(r["parent"], family)


@given(forests())
def test_descendants_paths_start_with_the_ancestors_path(
    forest: tuple[dict[str, dict[str, Any]], dict[str, int]],
) -> None:
    family, depth = forest
    for ancestor in family:
        prefix = task_path(ancestor, family)
        found = descendants({ancestor}, family)
        assert ancestor not in found
        for child in found:
            path = task_path(child, family)
            assert path[: len(prefix)] == prefix
            assert depth[child] > depth[ancestor]
        # and exactly the tasks whose parent chain reaches the ancestor
        expected = set()
        for task_id in family:
            current = family[task_id].get("parent")
            while current:
                if current == ancestor:
                    expected.add(task_id)
                    break
                current = family[current].get("parent")
        assert found == expected
