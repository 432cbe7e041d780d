"""`python -m deployments.serve`: one process serves every deployment (the embedded default).

Deployments stay unpaused when it stops, so schedules resume with the next `make up`.
"""

from prefect import serve

from deployments.definitions import runner_deployments


def main() -> None:
    serve(*runner_deployments(), pause_on_shutdown=False)


if __name__ == "__main__":
    main()
