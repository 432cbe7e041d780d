"""Pages: opened once per incident, read under a row lock by the run that walks them."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from serviceops.domain.oncall import Page, Paged, PageState
from serviceops.store.base import RecordNotFound
from serviceops.store.oncall.tables import PageRecord


def page_number(page_id: int) -> str:
    return f"PGE-{page_id:06d}"


class PageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def open(self, incident: str, group: str, at: datetime) -> Page:
        """A new page for `incident`, paging `group`, at its first step."""
        row = PageRecord(
            incident=incident,
            group_name=group,
            state=PageState.PAGING,
            step=0,
            paged=[],
            opened_at=at,
            updated_at=at,
        )
        self.session.add(row)
        self.session.flush()
        row.number = page_number(row.id)
        return _from_row(row)

    def of_incident(self, incident: str, *, for_update: bool = False) -> Page | None:
        """The incident's latest page, if it has one."""
        query = select(PageRecord).where(PageRecord.incident == incident)
        query = query.order_by(PageRecord.id.desc()).limit(1)
        row = self.session.scalars(query.with_for_update() if for_update else query).first()
        return None if row is None else _from_row(row)

    def paging(self) -> list[Page]:
        """The pages still walking their ladder, oldest first."""
        query = select(PageRecord).where(PageRecord.state == PageState.PAGING)
        return [_from_row(row) for row in self.session.scalars(query.order_by(PageRecord.id))]

    def get(self, number: str, *, for_update: bool = False) -> Page:
        query = select(PageRecord).where(PageRecord.number == number)
        row = self.session.scalars(query.with_for_update() if for_update else query).first()
        if row is None:
            raise RecordNotFound("page", number)
        return _from_row(row)

    def save(self, page: Page) -> Page:
        row = self.session.scalars(select(PageRecord).where(PageRecord.number == page.number)).one()
        row.state, row.step, row.updated_at = page.state, page.step, page.updated_at
        row.paged = [paged.model_dump(mode="json") for paged in page.paged]
        row.acknowledged_by, row.acknowledged_at = page.acknowledged_by, page.acknowledged_at
        return _from_row(row)


def _from_row(row: PageRecord) -> Page:
    assert row.number is not None
    return Page(
        number=row.number,
        incident=row.incident,
        group=row.group_name,
        state=PageState(row.state),
        step=row.step,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        paged=[Paged.model_validate(paged) for paged in row.paged],
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
    )
