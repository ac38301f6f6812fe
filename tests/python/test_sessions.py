"""Login sessions kept between CLI runs: one login for many calls, expiry, logout, file mode (issue 14, finding 9)."""

import base64
import json
import os
import stat
import time

import pytest

from loopback import Loopback

PASSWORD = "pw-SECRET-7"


def jwt(exp: float, n: int) -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{b64({'alg': 'none'})}.{b64({'exp': int(exp), 'n': n})}.sig-SECRET"


class Zou:
    """Kitsu's login route and one list route; tokens live `life` seconds."""

    def __init__(self, life: float = 3600):
        self.life = life
        self.logins = 0
        self.valid: set[str] = set()
        self.server = Loopback(self.handle)

    def handle(self, method, path, headers, body):
        if method == "POST" and path.endswith("/auth/login"):
            sent = json.loads(body or b"{}")
            if sent.get("password") != PASSWORD:
                return 400, {"error": True, "message": "Wrong email or password."}
            self.logins += 1
            token = jwt(time.time() + self.life, self.logins)
            self.valid.add(token)
            return 200, {"access_token": token}
        token = (headers.get("authorization") or "").removeprefix("Bearer ")
        if token not in self.valid:
            return 401, {"msg": "Token has been revoked"}
        if path.endswith("/fail"):
            return 500, {"message": "boom"}
        return 200, [{"id": "p1", "name": "Demo"}]

    def env(self):
        return {
            "OPDECK_KITSU_URL": self.server.url + "/api",
            "OPDECK_KITSU_USERNAME": "ann@example.com",
            "OPDECK_KITSU_PASSWORD": PASSWORD,
        }


@pytest.fixture
def zou():
    z = Zou()
    yield z
    z.server.close()


def session_files(tmp_path):
    folder = tmp_path / "cache" / "opdeck" / "sessions"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_five_calls_log_in_once_and_logout_forces_a_new_login(run, tmp_path, zou):
    # Failed on main: every run logged in (5 logins).
    outputs = []
    for _ in range(5):
        proc = run("call", "kitsu.projects.list", env=zou.env(), check=0)
        assert json.loads(proc.stdout) == [{"id": "p1", "name": "Demo"}]
        outputs.append(proc.stdout + proc.stderr)
    assert zou.logins == 1
    run("logout", env=zou.env(), check=0)
    assert session_files(tmp_path) == []
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    assert zou.logins == 2
    run("logout", "--service", "kitsu", env=zou.env(), check=0)
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    assert zou.logins == 3
    for out in outputs:
        assert "SECRET" not in out


def test_the_cache_file_is_private_and_holds_no_password(run, tmp_path, zou):
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    files = session_files(tmp_path)
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(files[0].parent).st_mode) == 0o700
    text = files[0].read_text(encoding="utf-8")
    assert PASSWORD not in text
    stored = json.loads(text)
    assert stored["key"]["service"] == "kitsu" and stored["key"]["base_url"] == zou.server.url + "/api"
    assert stored["expires_at"] > time.time()


def test_a_refused_cached_token_logs_in_once_more(run, tmp_path, zou):
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    zou.valid.clear()  # the server forgets every token (a restart, a revocation)
    proc = run("call", "kitsu.projects.list", env=zou.env(), check=0)
    assert json.loads(proc.stdout) == [{"id": "p1", "name": "Demo"}]
    assert zou.logins == 2
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    assert zou.logins == 2, "the new token was cached"


def test_an_expired_cached_token_is_not_used(run, tmp_path):
    short = Zou(life=2)
    try:
        run("call", "kitsu.projects.list", env=short.env(), check=0)
        time.sleep(1.5)  # past the renewal point (half of a 2 s life)
        run("call", "kitsu.projects.list", env=short.env(), check=0)
        assert short.logins == 2
    finally:
        short.server.close()


def test_another_base_url_or_user_is_another_session(run, tmp_path, zou):
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    other = {**zou.env(), "OPDECK_KITSU_USERNAME": "bob@example.com"}
    run("call", "kitsu.projects.list", env=other, check=0)
    assert zou.logins == 2
    assert len(session_files(tmp_path)) == 2


def test_errors_never_show_the_token(run, tmp_path, zou):
    run("call", "kitsu.projects.list", env=zou.env(), check=0)
    proc = run("call", "kitsu.projects.get", "--input", '{"instance_id": "fail"}', env={**zou.env(), "OPDECK_TIMEOUT": "5"})
    assert proc.returncode != 0 and "500" in proc.stderr
    assert "SECRET" not in proc.stdout + proc.stderr
