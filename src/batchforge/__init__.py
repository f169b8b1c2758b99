"""batchforge: a self-hosted control plane for Nextflow pipelines on AWS Batch."""

__version__ = "0.1.0"
