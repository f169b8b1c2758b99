"""Launching a run: params, the head job's script and config, its job definition, SubmitJob.

Pure functions here build what is sent to AWS Batch; :mod:`batchforge.services.launches`
owns the database and the order of calls (intent recorded before SubmitJob).
"""
