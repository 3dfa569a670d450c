"""A training run's figures and its self-contained HTML report.

:func:`load_run` (:mod:`.run`) reads whatever of a run folder's files is present;
:func:`make_figures` / :func:`write_figures` (:mod:`.figures`) draw its figures, the latter into
``RUN/figures/``; :func:`write_report` (:mod:`.page`) writes ``RUN/report.html``, one file with
the figures embedded and inline CSS that opens offline in any browser. Missing or unreadable
pieces are left out with a note saying why.
"""

from cnnlab.report.figures import make_figures, write_figures
from cnnlab.report.page import write_report
from cnnlab.report.run import RUN_FILES, Run, load_run

__all__ = ["RUN_FILES", "Run", "load_run", "make_figures", "write_figures", "write_report"]
