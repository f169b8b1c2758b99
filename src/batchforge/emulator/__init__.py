"""The embedded emulator's own parts (emulator process only; never imported by the product).

- :mod:`.server`: ``python -m batchforge.emulator.server``, moto's server plus what follows;
- :mod:`.executor`: head jobs really run their command (launcher entrypoint semantics, bash);
- :mod:`.container`: ECS's side (overrides limit, environment, secrets, job-role credentials);
- :mod:`.control`: ``/batchforge-emulator/*`` (execution switch, stand-in call log, reset);
- :mod:`.standin`: the ``nextflow`` stand-in on the head job's PATH -- not Nextflow.
"""
