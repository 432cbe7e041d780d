"""`python -m deployments.serve`: one process serves the procedures people start (the
embedded default); each of their runs gets a process of its own. The scheduled routine runs
in deployments.routine instead.

When it stops it pauses its deployments, as the routine runner does with its own.
"""

from prefect import serve

from deployments.definitions import definitions


def main() -> None:
    serve(*(d.to_deployment() for d in definitions() if not d.scheduled))


if __name__ == "__main__":
    main()
