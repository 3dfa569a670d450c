"""``cnnlab train --nproc N``: start the ranks of one machine and watch them.

Each rank is ``python -m cnnlab <command>`` with torchrun's environment (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``) and
its share of the machine's cores as its thread count (``OMP_NUM_THREADS`` and
``OPENBLAS_NUM_THREADS``, unless set already). On one machine the rendezvous is on 127.0.0.1
at a free port; with several, every machine runs the same command with its own
``node_rank`` and the address and port of node 0.

The watchdog: when a rank exits with a non-zero status (an error, or a kill), the launcher
says which one, terminates the others (SIGTERM, then SIGKILL after ``grace_s``) and returns
that status; the checkpoint written last stays as it was (it is replaced atomically). Ctrl-C
or SIGTERM to the launcher asks rank 0 to stop at the end of its step and save a checkpoint
(the others, left without their partner, are then ended). Ranks run in their own sessions, so
a terminal's Ctrl-C reaches only the launcher.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from types import FrameType

INTERRUPTED = 130  # cnnlab's exit status after a stop request


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def rank_environment(
    local_rank: int, nproc: int, node_rank: int, nnodes: int, master_addr: str, master_port: int
) -> dict[str, str]:
    """The environment of local rank ``local_rank`` (of ``nproc``) on node ``node_rank``."""
    env = dict(os.environ)
    env.update(
        RANK=str(node_rank * nproc + local_rank),
        WORLD_SIZE=str(nnodes * nproc),
        LOCAL_RANK=str(local_rank),
        LOCAL_WORLD_SIZE=str(nproc),
        MASTER_ADDR=master_addr,
        MASTER_PORT=str(master_port),
    )
    threads = str(max(1, (os.cpu_count() or 1) // nproc))
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.setdefault(name, threads)
    return env


def _describe(status: int) -> str:
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    return f"exited with status {status}"


def launch(
    argv: Sequence[str],
    nproc: int,
    *,
    nnodes: int = 1,
    node_rank: int = 0,
    master_addr: str = "127.0.0.1",
    master_port: int | None = None,
    grace_s: float = 5.0,
    poll_s: float = 0.05,
) -> int:
    """Run ``python -m cnnlab *argv`` as ranks ``node_rank * nproc ...`` of a process group.

    Waits for every rank.

    Args:
        argv: the cnnlab command line of every rank (e.g. ``["train", "--out", "runs/a"]``).
        nproc: processes on this machine, >= 1.
        nnodes: machines in the run.
        node_rank: this machine's number, in [0, nnodes) (0 holds rank 0).
        master_addr: the address where rank 0 meets the others.
        master_port: the port where rank 0 meets the others; defaults to a free one on a
            single machine and is required with several.
        grace_s: seconds between SIGTERM and SIGKILL when ending the other ranks.
        poll_s: how often the watchdog looks at the ranks.

    Returns:
        0 when every rank succeeded, 130 when a stop request ended the run, else the status
        of the first rank that failed (1 for one killed by a signal).

    Raises:
        ValueError: counts out of range, or several machines without a master port.
    """
    if nproc < 1 or nnodes < 1 or not 0 <= node_rank < nnodes:
        raise ValueError(
            f"launch: need nproc >= 1 and 0 <= node_rank < nnodes, got nproc={nproc}, "
            f"nnodes={nnodes}, node_rank={node_rank}"
        )
    if master_port is None:
        if nnodes > 1:
            raise ValueError("launch: a run on several machines needs --master-port")
        master_port = free_port(master_addr)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cnnlab", *argv],
            env=rank_environment(local, nproc, node_rank, nnodes, master_addr, master_port),
            start_new_session=True,
        )
        for local in range(nproc)
    ]
    return _watch(procs, first_rank=node_rank * nproc, grace_s=grace_s, poll_s=poll_s)


def _watch(procs: list[subprocess.Popen], first_rank: int, grace_s: float, poll_s: float) -> int:
    """Wait for the ranks; on the first failure end the others. See :func:`launch`."""
    stopping: list[str] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signal.Signals(signum).name)
        # rank 0 decides when the run stops; elsewhere every local rank is asked
        targets = procs[:1] if first_rank == 0 else procs
        for proc in targets:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            statuses = [proc.poll() for proc in procs]
            failed = [i for i, s in enumerate(statuses) if s not in (None, 0)]
            # after a stop request rank 0 is saving its checkpoint: the others may fail first
            waiting_for_rank0 = stopping and first_rank == 0 and statuses[0] is None
            if failed and not waiting_for_rank0:
                index = 0 if 0 in failed else failed[0]
                return _end_after_failure(procs, index, first_rank, grace_s, bool(stopping))
            if all(s == 0 for s in statuses):
                return 0
            time.sleep(poll_s)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _end_after_failure(
    procs: list[subprocess.Popen], index: int, first_rank: int, grace_s: float, stopping: bool
) -> int:
    """Terminate every rank still running after rank ``first_rank + index`` failed.

    Returns the run's status and says what happened on stderr.
    """
    status = procs[index].returncode
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if stopping and status == INTERRUPTED:
        return INTERRUPTED
    print(
        f"cnnlab: rank {first_rank + index} {_describe(status)}; the other ranks were stopped. "
        "The last checkpoint of the run is intact: rerun with --resume to continue (any "
        "number of processes).",
        file=sys.stderr,
    )
    return status if status > 0 else 1
