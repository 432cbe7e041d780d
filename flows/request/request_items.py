"""One deployment per catalogue item, each a Prefect UI form of that item's own fields.

fulfil-request takes any item (a union of models), which the UI can only offer as a JSON
editor; here each item is a flow whose `details` parameter is that item's model, so its form
has a select for each choice, a number input for each amount and a date picker for each date.
The flows are made from the catalogue, one per type (adding a type adds its form), and set as
attributes of this module under their own names so that a worker, or the process `serve`
starts for a run, loads them from their entrypoint like any other flow. Each runs the same
procedure as fulfil-request, so a request made here is approved, fulfilled and audited
alike."""

from prefect import Flow, flow
from prefect.states import State

from flows.request.fulfil_request import fulfil
from serviceops import deployment_names as names
from serviceops.domain.request import CATALOGUE_TYPES, RequestItem, RequestSubmission
from serviceops.domain.request.catalogue import Name

DOC = """{title}: {description}

    Args:
        requester: Who asks, as the directory names them; they cannot approve it.
        details: The {title_lower} request: fill in its fields.
        id: Your reference (optional): a second submission with it is the same request.
    """


def _request_flow(item: type[RequestItem]) -> Flow[..., str | State]:
    request_type = item.type_name()

    def request_item(requester: Name, details: item, id: str | None = None) -> str | State:  # type: ignore[valid-type]
        return fulfil(RequestSubmission(requester=requester, details=details, id=id), None)

    request_item.__name__ = request_item.__qualname__ = f"request_{request_type}"
    request_item.__doc__ = DOC.format(
        title=item.title, description=item.description, title_lower=item.title.lower()
    )
    return flow(name=names.request_item_flow(request_type), persist_result=True)(request_item)


REQUEST_ITEM_FLOWS: tuple[Flow[..., str | State], ...] = tuple(
    _request_flow(item) for item in CATALOGUE_TYPES
)
globals().update({f.fn.__name__: f for f in REQUEST_ITEM_FLOWS})
