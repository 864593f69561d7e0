"""Test settings shared by every test file."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a test run is reproducible
# and CI does not depend on which random examples one run happened to draw.
settings.register_profile("book", derandomize=True, deadline=None)
settings.load_profile("book")


# --- running in parallel (pytest -n auto) --------------------------------------------------------

# The chapters that train a transformer. They run on one worker, one after the other,
# and last: torch already uses every core, and anything beside them slows them down
# more than it gains (two of them at once, many times over).
TRAINING_CHAPTERS = ("10_star_on_a_real_transformer.ipynb", "11_the_question_in_view.ipynb")
TRAINING_SCOPE = "training chapters"


def pytest_xdist_make_scheduler(config, log):
    """Schedule by file, as ``--dist loadscope`` does (a notebook's cells share one kernel),
    with the training chapters as one unit handed out after every other."""
    from xdist.scheduler import LoadScopeScheduling

    class ChapterScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if nodeid.split("::")[0].endswith(TRAINING_CHAPTERS):
                return TRAINING_SCOPE
            return super()._split_scope(nodeid)

        def _assign_work_unit(self, node):
            if TRAINING_SCOPE in self.workqueue:
                self.workqueue.move_to_end(TRAINING_SCOPE)
            super()._assign_work_unit(node)

    return ChapterScheduling(config, log)
