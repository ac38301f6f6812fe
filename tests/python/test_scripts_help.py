"""Scripts for people: the API reference, unknown operations, services inside functions (issue 14, finding 8)."""

from conftest import error_json


def test_help_script_lists_the_script_api_one_line_per_function(run):
    # Failed on main: `help script` was not a help topic.
    out = run("help", "script", check=0).stdout
    for signature in ("call(id, [input])", "paginate(id, [input], [limits])", "parallel(calls, limit)", "env(name)"):
        lines = [line for line in out.splitlines() if line.strip().startswith(signature)]
        assert len(lines) == 1, (signature, out)
        assert len(lines[0].split(None, 1)) == 2, "a description follows the signature"


def test_an_unknown_operation_in_rhai_suggests_the_closest_ids(run, tmp_path):
    # Failed on main: "function not found: getUsr (map, map)".
    script = tmp_path / "typo.rhai"
    script.write_text("wildduck.users.getUsr(#{})\n", encoding="utf-8")
    err = error_json(run("run", str(script), "--mock"))
    assert "unknown operation `wildduck.users.getUsr`" in err["message"]
    assert "did you mean `wildduck.users.getUser`" in err["message"]


def test_service_variables_are_visible_inside_a_function(run, tmp_path):
    # Failed on main: "variable not found: wildduck (in function `count`)".
    script = tmp_path / "fn.rhai"
    script.write_text("fn count() { wildduck.users.getUsers(#{}).results.len() }\nprint(count());\n", encoding="utf-8")
    proc = run("run", str(script), "--mock", check=0)
    assert proc.stdout.strip().isdigit(), proc.stdout
