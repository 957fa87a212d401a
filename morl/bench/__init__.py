"""``morl bench``: agents × problems × seeds on one budget and protocol, and its report.

:mod:`.plan` validates and enumerates the runs, :mod:`.runner` runs them (resumable, failures
recorded) and :mod:`.report` tabulates the records.
"""
