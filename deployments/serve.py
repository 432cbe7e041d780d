"""`python -m deployments.serve`: one process serves every deployment (the embedded default).

When it stops it pauses its deployments, which deletes their auto-scheduled runs: the next
`make up` starts the schedules afresh instead of catching up every sweep missed while down.
"""

from prefect import serve

from deployments.definitions import runner_deployments


def main() -> None:
    serve(*runner_deployments())


if __name__ == "__main__":
    main()
