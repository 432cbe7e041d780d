"""The request catalogue is code: each request type is a pydantic model whose fields are the
form a requester fills in, and whose class attributes say what it needs (approvals, fulfilment
steps, target time). The discriminated union `RequestDetails` is what a webhook posts and what
the Prefect UI form of fulfil-request offers; `CATALOGUE_TYPES` is the one list of types."""

from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, Field, PlainSerializer, WithJsonSchema

# The field types of the forms: free text and a name, never control characters.
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]
# An amount in EUR: a decimal in the record, so comparisons are exact; a number in JSON (a
# string such as "1299.00" is accepted too), so a form shows a number input rather than a
# choice of types, and Prefect's check of run parameters against the schema passes. Amounts
# of this size in cents survive the trip through a float.
AMOUNT_LIMIT = 100_000
Amount = Annotated[
    Decimal,
    Field(ge=0, le=AMOUNT_LIMIT),
    PlainSerializer(float, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0, "maximum": AMOUNT_LIMIT}),
]


class ApprovalKind(StrEnum):
    FINANCIAL = "financial"
    MANAGER = "manager"
    SYSTEM_OWNER = "system_owner"


# ITIL: financial approval first, then the others.
APPROVAL_ORDER = (ApprovalKind.FINANCIAL, ApprovalKind.MANAGER, ApprovalKind.SYSTEM_OWNER)


class FulfilmentStep(StrEnum):
    """The steps fulfilment knows; a request type lists its own, in order, and
    tasks/fulfilment_steps.py carries each out (test_registries checks that every one can)."""

    ORDER_HARDWARE = "order_hardware"
    HAND_OVER_HARDWARE = "hand_over_hardware"
    INSTALL_SOFTWARE = "install_software"
    RESET_PASSWORD = "reset_password"
    PROVIDE_ACCESS = "provide_access"
    REMOVE_ACCESS = "remove_access"


class CatalogueItem(BaseModel):
    """One request type: what the catalogue shows and what fulfilment will do."""

    type: str
    title: str
    description: str
    approvals: list[ApprovalKind] = Field(description="Approvals this type may need.")
    financial_threshold: Decimal | None = Field(
        None, description="Cost above which financial approval is needed."
    )
    fulfilment: list[str] = Field(description="Fulfilment steps, in order.")
    target: timedelta = Field(description="Target time from submission to fulfilment.")
    fields_schema: dict[str, Any] = Field(
        description="JSON Schema of the item's fields: the `details` of a submission, as "
        "fulfil-request validates them."
    )
    example: dict[str, Any] = Field(description="A `details` object the schema accepts.")


class RequestItem(BaseModel):
    """What every request type declares besides its fields."""

    title: ClassVar[str]
    description: ClassVar[str]
    approvals: ClassVar[tuple[ApprovalKind, ...]] = ()
    financial_threshold: ClassVar[Decimal | None] = None
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]]
    target: ClassVar[timedelta]
    example: ClassVar[dict[str, Any]]

    def amount(self) -> Decimal:
        """What the request costs, for the financial approval rule."""
        return Decimal(0)

    def expires_on(self) -> date | None:
        """The day the access it grants ends (None: it does not end)."""
        return None

    def required_approvals(self) -> list[ApprovalKind]:
        """The static approvals, plus financial when the cost is above the threshold."""
        kinds = set(self.approvals)
        if self.financial_threshold is not None and self.amount() > self.financial_threshold:
            kinds.add(ApprovalKind.FINANCIAL)
        return [kind for kind in APPROVAL_ORDER if kind in kinds]

    @classmethod
    def type_name(cls) -> str:
        """The value of `type` that selects this item."""
        return cls.model_fields["type"].default

    @classmethod
    def catalogue_item(cls) -> CatalogueItem:
        return CatalogueItem(
            type=cls.type_name(),
            title=cls.title,
            description=cls.description,
            approvals=list(cls.approvals)
            + ([ApprovalKind.FINANCIAL] if cls.financial_threshold is not None else []),
            financial_threshold=cls.financial_threshold,
            fulfilment=list(cls.fulfilment),
            target=cls.target,
            fields_schema=cls.model_json_schema(),
            example=cls.example,
        )


CATALOGUE_ITEM = "The catalogue item; it decides the fields, approvals and fulfilment."


class LaptopModel(StrEnum):
    STANDARD = "standard"
    DEVELOPER = "developer"
    EXECUTIVE = "executive"


class NewLaptop(RequestItem):
    """A laptop for a new starter or a replacement."""

    title: ClassVar[str] = "New laptop"
    description: ClassVar[str] = "A laptop from the standard range, ordered and handed over."
    approvals: ClassVar[tuple[ApprovalKind, ...]] = (ApprovalKind.MANAGER,)
    financial_threshold: ClassVar[Decimal | None] = Decimal(1500)
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (
        FulfilmentStep.ORDER_HARDWARE,
        FulfilmentStep.HAND_OVER_HARDWARE,
    )
    target: ClassVar[timedelta] = timedelta(days=5)
    example: ClassVar[dict[str, Any]] = {
        "type": "new_laptop",
        "model": "developer",
        "cost": 1299,
        "justification": "New starter in the platform team",
        "deliver_to": "alice",
    }

    type: Literal["new_laptop"] = Field(
        "new_laptop", title="Request type", description=CATALOGUE_ITEM
    )
    model: LaptopModel = Field(title="Model", description="From the standard range.")
    cost: Amount = Field(title="Cost", description="Price in EUR.")
    justification: Text = Field(title="Justification", description="Why it is needed.")
    deliver_to: Name = Field(title="Deliver to", description="Who receives it.")

    def amount(self) -> Decimal:
        return self.cost


class SoftwareInstall(RequestItem):
    """Software from the approved list, installed on a managed host."""

    title: ClassVar[str] = "Software install"
    description: ClassVar[str] = "Approved software installed on a managed machine."
    financial_threshold: ClassVar[Decimal | None] = Decimal(500)
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.INSTALL_SOFTWARE,)
    target: ClassVar[timedelta] = timedelta(days=2)
    example: ClassVar[dict[str, Any]] = {
        "type": "software_install",
        "software": "Figma",
        "host": "pc-7",
        "licence_cost": 180,
    }

    type: Literal["software_install"] = Field(
        "software_install", title="Request type", description=CATALOGUE_ITEM
    )
    software: Name = Field(title="Software", description="Name as in the software list.")
    version: str = Field("latest", max_length=50, title="Version", description="Or latest.")
    host: Name = Field(title="Host", description="The machine to install it on.")
    licence_cost: Amount = Field(Decimal(0), title="Licence cost", description="EUR per year.")

    def amount(self) -> Decimal:
        return self.licence_cost


class PasswordReset(RequestItem):
    """A password reset for an account the requester owns."""

    title: ClassVar[str] = "Password reset"
    description: ClassVar[str] = "Reset the password of an account; no approval needed."
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.RESET_PASSWORD,)
    target: ClassVar[timedelta] = timedelta(hours=4)
    example: ClassVar[dict[str, Any]] = {"type": "password_reset", "account": "alice@example.com"}

    type: Literal["password_reset"] = Field(
        "password_reset", title="Request type", description=CATALOGUE_ITEM
    )
    account: Name = Field(title="Account", description="The account to reset.")


class AccessGrant(RequestItem):
    """Access management: a role on a system for a user, until a date."""

    title: ClassVar[str] = "Access to a system"
    description: ClassVar[str] = "A role on a system, verified, approved and provisioned."
    approvals: ClassVar[tuple[ApprovalKind, ...]] = (
        ApprovalKind.MANAGER,
        ApprovalKind.SYSTEM_OWNER,
    )
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.PROVIDE_ACCESS,)
    target: ClassVar[timedelta] = timedelta(days=1)
    example: ClassVar[dict[str, Any]] = {
        "type": "access_grant",
        "user": "alice",
        "system": "payroll",
        "role": "viewer",
        "until": "2027-06-30",
        "justification": "Quarter-end audit",
    }

    type: Literal["access_grant"] = Field(
        "access_grant", title="Request type", description=CATALOGUE_ITEM
    )
    user: Name = Field(title="User", description="Who gets the access.")
    system: Name = Field(title="System", description="e.g. payroll, crm, vpn.")
    role: Name = Field(title="Role", description="The role on that system.")
    until: date | None = Field(None, title="Until", description="Expiry; empty: none.")
    justification: Text = Field(title="Justification", description="Why it is needed.")

    def expires_on(self) -> date | None:
        return self.until


class AccessRevoke(RequestItem):
    """Access management: remove a role from a user."""

    title: ClassVar[str] = "Revoke access"
    description: ClassVar[str] = "Remove a role on a system from a user."
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.REMOVE_ACCESS,)
    target: ClassVar[timedelta] = timedelta(hours=4)
    example: ClassVar[dict[str, Any]] = {
        "type": "access_revoke",
        "user": "bob",
        "system": "crm",
        "role": "admin",
        "reason": "Moved to another team",
    }

    type: Literal["access_revoke"] = Field(
        "access_revoke", title="Request type", description=CATALOGUE_ITEM
    )
    user: Name = Field(title="User", description="Whose access is removed.")
    system: Name = Field(title="System", description="The system.")
    role: Name = Field(title="Role", description="The role to remove.")
    reason: Text = Field(title="Reason", description="Why it is removed.")


class VpnAccess(RequestItem):
    """Remote access through the VPN."""

    title: ClassVar[str] = "VPN access"
    description: ClassVar[str] = "A VPN account, approved by the manager."
    approvals: ClassVar[tuple[ApprovalKind, ...]] = (ApprovalKind.MANAGER,)
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.PROVIDE_ACCESS,)
    target: ClassVar[timedelta] = timedelta(days=1)
    example: ClassVar[dict[str, Any]] = {"type": "vpn_access", "user": "carol"}

    type: Literal["vpn_access"] = Field(
        "vpn_access", title="Request type", description=CATALOGUE_ITEM
    )
    user: Name = Field(title="User", description="Who gets VPN access.")
    until: date | None = Field(None, title="Until", description="Expiry; empty: none.")

    def expires_on(self) -> date | None:
        return self.until


class MailboxPermission(StrEnum):
    READ = "read"
    SEND_AS = "send_as"
    FULL = "full"


class SharedMailbox(RequestItem):
    """A permission on a shared mailbox, approved by the mailbox owner."""

    title: ClassVar[str] = "Shared mailbox"
    description: ClassVar[str] = "Access to a shared mailbox, approved by its owner."
    approvals: ClassVar[tuple[ApprovalKind, ...]] = (ApprovalKind.SYSTEM_OWNER,)
    fulfilment: ClassVar[tuple[FulfilmentStep, ...]] = (FulfilmentStep.PROVIDE_ACCESS,)
    target: ClassVar[timedelta] = timedelta(days=1)
    example: ClassVar[dict[str, Any]] = {
        "type": "shared_mailbox",
        "user": "dave",
        "mailbox": "support@example.com",
        "permission": "send_as",
    }

    type: Literal["shared_mailbox"] = Field(
        "shared_mailbox", title="Request type", description=CATALOGUE_ITEM
    )
    user: Name = Field(title="User", description="Who gets the permission.")
    mailbox: Name = Field(title="Mailbox", description="e.g. support@example.com.")
    permission: MailboxPermission = Field(
        MailboxPermission.READ, title="Permission", description="read, send_as or full."
    )


CATALOGUE_TYPES: tuple[type[RequestItem], ...] = (
    NewLaptop,
    SoftwareInstall,
    PasswordReset,
    AccessGrant,
    AccessRevoke,
    VpnAccess,
    SharedMailbox,
)

# Access management's items: those whose fulfilment gives or removes a right.
_ACCESS_STEPS = {FulfilmentStep.PROVIDE_ACCESS, FulfilmentStep.REMOVE_ACCESS}
ACCESS_TYPES: tuple[type[RequestItem], ...] = tuple(
    item for item in CATALOGUE_TYPES if _ACCESS_STEPS & set(item.fulfilment)
)

# The catalogue's types as an enum, so a bad type filter names the good ones (read API, CLI).
TYPE_NAMES: tuple[str, ...] = tuple(item.type_name() for item in CATALOGUE_TYPES)
RequestType = StrEnum("RequestType", {name: name for name in TYPE_NAMES})  # type: ignore[misc]

# What a request asks for: one of the catalogue's types, told apart by `type`.
RequestDetails = Annotated[Union[CATALOGUE_TYPES], Field(discriminator="type")]  # noqa: UP007


def catalogue() -> list[CatalogueItem]:
    return [item.catalogue_item() for item in CATALOGUE_TYPES]


def catalogue_type(name: str) -> type[RequestItem] | None:
    """The catalogue item class of a request type, None when the catalogue has no such type."""
    return dict(zip(TYPE_NAMES, CATALOGUE_TYPES, strict=True)).get(name)


def access_target(details: BaseModel) -> tuple[str, str, str] | None:
    """(user, system, role) when the request is about access rights, else None."""
    match details:
        case AccessGrant(user=user, system=system, role=role):
            return user, system, role
        case AccessRevoke(user=user, system=system, role=role):
            return user, system, role
        case VpnAccess(user=user):
            return user, "vpn", "user"
        case SharedMailbox(user=user, mailbox=mailbox, permission=permission):
            return user, f"mailbox:{mailbox}", permission.value
    return None
