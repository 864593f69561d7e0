"""Test settings shared by every test file."""

from hypothesis import settings

# Property tests draw the same examples on every run, so a test run is reproducible
# and CI does not depend on which random examples one run happened to draw.
settings.register_profile("book", derandomize=True, deadline=None)
settings.load_profile("book")


# --- running in parallel (pytest -n auto) --------------------------------------------------------

# The chapters that train a transformer, longest first. Each pins torch to one thread
# (so its stored numbers do not depend on the machine's cores), so they start first,
# each on a worker of its own, and everything else fills in around them.
TRAINING_CHAPTERS = ("10_star_on_a_real_transformer.ipynb", "11_the_question_in_view.ipynb")


def pytest_xdist_make_scheduler(config, log):
    """Schedule by file, as ``--dist loadscope`` does (a notebook's cells share one kernel),
    with the training chapters handed out before every other file."""
    from xdist.scheduler import LoadScopeScheduling

    class ChapterScheduling(LoadScopeScheduling):
        def _assign_work_unit(self, node):
            for chapter in reversed(TRAINING_CHAPTERS):
                scope = next((s for s in self.workqueue if s.endswith(chapter)), None)
                if scope is not None:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return ChapterScheduling(config, log)
