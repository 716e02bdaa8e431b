"""The pytest plugin: event cassettes for a test suite.

Everything pytest-specific lives here and nowhere else: the entry point with its hooks and
fixtures (:mod:`.plugin`), the session-wide command-line and ini settings (:mod:`.settings`),
one test's options merged from every layer (:mod:`.options`), which cassette a test uses and
how it is opened (:mod:`.opening`), the per-test record/replay/verify lifecycle
(:mod:`.session`) and the hooks a conftest may implement (:mod:`.hookspecs`). What a whole
run did with its cassettes is kept in :mod:`.lifecycle` (also across xdist workers), judged in
:mod:`.unused` and :mod:`.staleness`, and reported by :mod:`.report`; :mod:`.pending_run`
writes a failed replay's pending cassette. The engines, formats and the comparison it uses
sit below, in the core package.
"""
