"""The ``batchforge`` command line, modelled on Seqera's ``tw``.  A client of the API.

Modules import heavy packages inside command functions so ``batchforge --help`` starts fast.
"""
