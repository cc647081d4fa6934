"""`make run`'s banner: a taken port is said before anything else; the login prints once the server answers."""

import socket

import pytest
from django.core.management import CommandError, call_command


@pytest.fixture
def listening_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


@pytest.fixture
def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_taken_port_is_refused_with_what_to_do(listening_port):
    with pytest.raises(CommandError, match=rf"Port {listening_port} on 127.0.0.1 is already in use.*PORT="):
        call_command("dev_banner", f"127.0.0.1:{listening_port}", "--check")


def test_a_free_port_passes_the_check_silently(free_port, capsys):
    call_command("dev_banner", f"127.0.0.1:{free_port}", "--check")
    assert capsys.readouterr().out == ""


def test_the_banner_gives_the_url_and_the_login_once_the_server_answers(listening_port, settings, tmp_path, capsys):
    settings.VAR_DIR = tmp_path
    (tmp_path / "demo-login.txt").write_text("s3cret-demo-pass\n")

    call_command("dev_banner", f"127.0.0.1:{listening_port}", "--when-up")

    out = capsys.readouterr().out
    assert f"running at http://127.0.0.1:{listening_port}/" in out
    assert "Log in as demo / s3cret-demo-pass" in out
    assert "make stop" in out
