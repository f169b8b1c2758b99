"""Use cases: the only callers of the database and of the domain packages (aws, iam, ...).

Routers and CLI commands call these functions; they never touch SQL or boto3 themselves.
"""
