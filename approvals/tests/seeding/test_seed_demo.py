import pytest
from django.contrib.auth.models import User
from django.core.files.storage import storages
from django.core.management import call_command

from approvals.models import Approval, Artifact, Job, JobStatus, Run

# What the demo puts in the queue (every kind a reviewer meets; see approvals/seeding/demo.py).
DEMO_PENDING = 27


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "storage")},
        },
    }
    return tmp_path


@pytest.mark.django_db
def test_seed_demo_creates_a_reviewer_with_a_random_password(var_dir, capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    password = (var_dir / "demo-login.txt").read_text().strip()
    assert f"Log in as demo / {password}" in output
    user = User.objects.get(username="demo")
    assert user.check_password(password)
    assert user.has_perm("approvals.can_review")
    assert len(password) >= 12


@pytest.mark.django_db
def test_two_databases_get_different_demo_passwords(var_dir, tmp_path_factory):
    call_command("seed_demo")
    first = (var_dir / "demo-login.txt").read_text()
    User.objects.filter(username="demo").delete()
    (var_dir / "demo-login.txt").unlink()
    call_command("seed_demo")
    assert (var_dir / "demo-login.txt").read_text() != first


@pytest.mark.django_db
def test_seed_demo_loads_every_kind_and_job_status_once(var_dir, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert "Tables already hold data" in capsys.readouterr().out
    assert set(Artifact.objects.values_list("kind", flat=True)) == {"text", "json", "file"}
    assert set(Job.objects.values_list("status", flat=True)) == set(JobStatus.values)
    assert Approval.objects.filter(status="pending").count() == DEMO_PENDING
    assert Run.objects.filter(cost_usd__gt=0, total_tokens__gt=0).exists()


@pytest.mark.django_db
def test_seed_demo_images_are_real_pngs_in_storage(var_dir):
    call_command("seed_demo")
    images = Artifact.objects.filter(kind="file", mime_type="image/png")
    assert images.count() == 3
    for artifact in images:
        with storages["default"].open(artifact.storage_path) as stored:
            data = stored.read()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) == artifact.size_bytes
