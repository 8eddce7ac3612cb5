"""The report command on packages it cannot read: one line naming the file (and member), exit status 2."""

import io
import subprocess
import sys
import tarfile

import pytest
from flyteidl.admin import task_pb2
from flyteidl.core import tasks_pb2

from flytekitplugins.resources import report

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _task_spec(name="wf.t", cpu="1") -> bytes:
    spec = task_pb2.TaskSpec()
    spec.template.id.name = name
    spec.template.container.resources.requests.add(name=tasks_pb2.Resources.CPU, value=cpu)
    return spec.SerializeToString()


def _tgz(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif isinstance(data, tuple):  # a symbolic link
                info.type, info.linkname = tarfile.SYMTYPE, data[0]
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return str(path)


def _pod_spec_with_odd_containers() -> bytes:
    spec = task_pb2.TaskSpec()
    spec.template.id.name = "wf.odd"
    spec.template.k8s_pod.pod_spec.update({"containers": "not-a-list"})
    return spec.SerializeToString()


def test_a_readable_package_reports_its_tasks(tmp_path):
    path = _tgz(tmp_path / "ok.tgz", [("0_wf.t_1.pb", _task_spec())])
    assert [(r.name, r.requests) for r in report.summarize(path)] == [("wf.t", {"cpu": "1"})]
    assert "wf.t" in report.report(path) and report.main([path]) == 0


@pytest.mark.parametrize("make, member, problem", [
    (lambda d: str(d / "missing.tgz"), None, "no such file or folder"),
    (lambda d: (d / "junk.tgz").write_bytes(b"\x00not a tar at all" * 40) and str(d / "junk.tgz"), None,
     "is not a pyflyte package"),
    (lambda d: _truncated(d), None, "damaged archive"),
    (lambda d: _tgz(d / "bad.tgz", [("0_wf.t_1.pb", b"\xff\xff\xff\xff")]), "0_wf.t_1.pb",
     "is not a TaskSpec protobuf"),
    (lambda d: _tgz(d / "badwf.tgz", [("1_wf_2.pb", b"\x0a\xff")]), "1_wf_2.pb", "is not a WorkflowSpec protobuf"),
    (lambda d: _tgz(d / "dir.tgz", [("0_wf.t_1.pb", None)]), "0_wf.t_1.pb", "is not a regular file"),
    (lambda d: _tgz(d / "link.tgz", [("0_wf.t_1.pb", ("elsewhere",))]), "0_wf.t_1.pb", "is not a regular file"),
    (lambda d: _tgz(d / "odd.tgz", [("0_wf.odd_1.pb", _pod_spec_with_odd_containers())]), "0_wf.odd_1.pb",
     "has an unexpected shape"),
    (lambda d: (d / "folder" / "0_wf.t_1.pb").mkdir(parents=True) or str(d / "folder"), "0_wf.t_1.pb",
     "cannot be read"),
])
def test_an_unreadable_package_is_one_line_naming_the_file_and_member(tmp_path, capsys, make, member, problem):
    path = make(tmp_path)
    with pytest.raises(report.ReportError) as info:
        report.summarize(path)
    assert (info.value.path, info.value.member) == (path, member) and problem in info.value.problem
    assert report.main([path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and path in err and (member or "") in err and problem in err


def _truncated(d):
    whole = _tgz(d / "whole.tgz", [(f"{i}_wf.t{i}_1.pb", _task_spec(f"wf.t{i}") * 200) for i in range(50)])
    data = open(whole, "rb").read()
    (d / "cut.tgz").write_bytes(data[: len(data) // 2])
    return str(d / "cut.tgz")


def test_the_module_prints_no_traceback_and_exits_non_zero(tmp_path):
    out = subprocess.run([sys.executable, "-m", "flytekitplugins.resources.report", str(tmp_path / "nope.tgz")],
                         capture_output=True, text=True)
    assert out.returncode == 2  # an input that cannot be read, as for flyte-resources preview, check and report
    assert out.stderr.strip().splitlines() == [f"error: {tmp_path / 'nope.tgz'}: no such file or folder"]
