"""The run-folder lock and the clean-up of interrupted atomic writes (cnnlab._io)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from cnnlab._io import FolderInUseError, atomic_open, locked_folder, remove_temporaries


def test_the_lock_holds_the_pid_and_goes_with_the_folder_it_made(tmp_path):
    out = tmp_path / "a" / "run"
    with locked_folder(out):
        assert (out / ".lock").read_text().strip() == str(os.getpid())
    assert not (tmp_path / "a").exists()  # created for nothing, removed with its parent
    with locked_folder(out):
        (out / "kept.txt").write_text("x")
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]


def test_a_second_process_is_refused_naming_the_owner(tmp_path):
    out = tmp_path / "run"
    code = textwrap.dedent(
        f"""
        from cnnlab._io import FolderInUseError, locked_folder
        try:
            with locked_folder({str(out)!r}):
                pass
        except FolderInUseError as err:
            print(err)
        """
    )
    with locked_folder(out):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert f"in use by process {os.getpid()}" in done.stdout, done.stdout + done.stderr


def test_a_stale_lock_is_reported_and_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".lock").write_text("999999\n")  # left by a killed run: nobody holds its flock
    with pytest.warns(UserWarning, match="stale lock of process 999999"):
        with locked_folder(out):
            pass
    assert not (out / ".lock").exists()


def test_leftover_temporary_files_are_removed_on_entry(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".checkpoint.npz.x1y2.tmp").write_bytes(b"partial")
    (out / "notes.tmp.txt").write_text("mine")
    with locked_folder(out):
        assert sorted(p.name for p in out.iterdir()) == [".lock", "notes.tmp.txt"]


def test_remove_temporaries_only_touches_atomic_write_leftovers(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_open(tmp_path / "f.bin") as f:
            f.write(b"x")
            raise RuntimeError  # atomic_open cleans after itself...
    (tmp_path / ".f.bin.abc.tmp").write_bytes(b"...a kill does not")
    (tmp_path / "f.bin").write_bytes(b"whole")
    assert [p.name for p in remove_temporaries(tmp_path)] == [".f.bin.abc.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_a_file_where_the_folder_should_be(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(FileExistsError, match="not a folder"):
        with locked_folder(tmp_path / "f"):
            pass
    assert issubclass(FolderInUseError, OSError)
