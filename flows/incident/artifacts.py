"""The incident's markdown summary, kept as one keyed artifact that each run adds a version to."""

from prefect.artifacts import create_markdown_artifact

from tasks.incident import summarize_incident


def publish_summary(number: str) -> None:
    create_markdown_artifact(
        key=f"incident-{number.lower()}",
        markdown=summarize_incident(number),
        description=f"{number} as of this run",
    )
