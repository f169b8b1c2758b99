"""Run tracking: Batch job states → run statuses, and head-job logs from CloudWatch."""
