"""Finding operations from the command line: verbs, plurals, Kitsu's collection routes (issue 14, finding 5)."""

import json


def ids_and_routes(proc):
    return [(op["id"], op["method"], op["path"]) for op in json.loads(proc.stdout)]


def test_create_person_lists_post_data_persons_first(run):
    # Failed on main: nothing was found.
    found = ids_and_routes(run("ops", "create", "person", "--json", check=0))
    assert found, "`ops create person` finds nothing"
    assert found[0] == ("kitsu.persons.create", "POST", "/data/persons")


def test_projects_on_kitsu_with_get_ranks_the_list_route_in_the_top_three(run):
    # Failed on main: /data/projects was 27th.
    found = ids_and_routes(run("ops", "projects", "--service", "kitsu", "--method", "GET", "--json", check=0))
    paths = [path for _, _, path in found]
    assert "/data/projects" in paths[:3], paths[:5]


def test_a_former_crud_id_still_describes_the_renamed_operation(run):
    described = json.loads(run("describe", "kitsu.crud.getDataProjects", "--json", check=0).stdout)
    assert described["id"] == "kitsu.projects.list"
