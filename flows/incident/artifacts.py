"""What the Prefect UI shows of an incident after each change: its markdown summary, kept as
one keyed artifact that each run adds a version to (so the UI shows its history), with the
trail and links to the next steps' forms; and the service desk board, which lists it."""

from prefect.artifacts import create_markdown_artifact

from tasks.board import TransitionForms, publish_board
from tasks.incident import summarize_incident


def publish_summary(number: str) -> None:
    forms = TransitionForms.from_prefect()  # one lookup for both
    create_markdown_artifact(
        key=f"incident-{number.lower()}",
        markdown=summarize_incident(number, forms),
        description=f"{number} as of this run",
    )
    publish_board(forms)
