"""Entity sets served by the emulator: their keys, fields, types and enumerations.

Field kinds: ``str``, ``int``, ``float``, ``date`` (stored ``YYYY-MM-DD``, served as
``YYYY-MM-DDT00:00:00Z``), ``time`` (stored ``HH:MM:SS``), ``enum`` (stored in the long form,
accepted in both forms), ``lines`` (a collection of complex values with its own fields).
User-defined fields (``U_<Name>``) exist only once declared in ``UserFieldsMD`` (see
``user_fields.py``, which extends these static definitions per emulator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENUMS: dict[str, dict[str, str]] = {
    "BoCardTypes": {"cCustomer": "C", "cSupplier": "S", "cLid": "L"},
    "BoYesNoEnum": {"tYES": "Y", "tNO": "N"},
    "BoStatus": {"bost_Open": "O", "bost_Close": "C"},
    # a cancelled document (Y) and the cancellation document that cancels it (C)
    "CancelStatusEnum": {"csYes": "Y", "csNo": "N", "csCancellation": "C"},
    "BoDocumentTypes": {"dDocument_Items": "I", "dDocument_Service": "S"},
    "BoAddressType": {"bo_ShipTo": "S", "bo_BillTo": "B"},
    "BoItemTypes": {"itItems": "I", "itLabor": "L", "itTravel": "T", "itFixedAssets": "F"},
    "BoRcptTypes": {"rCustomer": "C", "rAccount": "A", "rSupplier": "S"},
    "BoRcptInvTypes": {"it_Invoice": "13", "it_CredItnote": "14", "it_DownPayment": "203"},
    # webhook enumerations: short forms as in the OEVC table of the SDK help
    "AuthenticationType": {"None": "N", "Basic": "B", "OAuth": "O", "HMAC": "H"},
    "WebhookState": {"Active": "A", "Inactive": "I", "Exceptional": "X"},
    "WebhookWorkMode": {"Standard": "S", "Replay": "R"},
    # user-defined field metadata (CUFD): types and subtypes as in the SDK help
    "BoFieldTypes": {"db_Alpha": "A", "db_Memo": "M", "db_Numeric": "N", "db_Date": "D",
                     "db_Float": "B"},
    "BoFldSubTypes": {"st_None": "", "st_Address": "?", "st_Phone": "#", "st_Time": "T",
                      "st_Rate": "R", "st_Sum": "S", "st_Price": "P", "st_Quantity": "Q",
                      "st_Percentage": "%", "st_Measurement": "M", "st_Link": "B",
                      "st_Image": "I"},
}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str
    enum: str | None = None
    default: object = None
    read_only: bool = False
    lines: tuple[Field, ...] | None = None
    line_type: str | None = None
    size: int | None = None  # user-defined alphanumeric fields: the longest value accepted
    valid_values: tuple[tuple[str, str], ...] = ()  # user-defined fields: (Value, Description)


@dataclass(eq=False)
class EntitySet:
    name: str
    type_name: str
    key: str
    key_kind: str
    object_type: str | None
    fields: tuple[Field, ...]
    server_key: bool = False
    auto_key: bool = False  # a missing key is generated (a GUID string)
    key_parts: tuple[str, ...] = ()  # a composite key, stored in ``key`` as one string
    by_name: dict[str, Field] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {f.name: f for f in self.fields}


def S(name: str, default: object = None, **kw) -> Field:  # noqa: N802 - short field makers
    return Field(name, "str", default=default, **kw)


def I(name: str, default: object = None, **kw) -> Field:  # noqa: N802, E743
    return Field(name, "int", default=default, **kw)


def F(name: str, default: object = 0.0, **kw) -> Field:  # noqa: N802
    return Field(name, "float", default=default, **kw)


def D(name: str, **kw) -> Field:  # noqa: N802
    return Field(name, "date", **kw)


def E(name: str, enum: str, default: str | None, **kw) -> Field:  # noqa: N802
    return Field(name, "enum", enum=enum, default=default, **kw)


def L(name: str, line_type: str, *fields: Field) -> Field:  # noqa: N802
    return Field(name, "lines", default=None, lines=tuple(fields), line_type=line_type)


# Creation and update stamps as real servers name them: master data (business partners,
# items) has CreateDate/CreateTime, documents CreationDate/DocTime; both have UpdateDate and
# UpdateTime. Incoming payments have none of them.
STAMPS = (
    D("CreateDate", read_only=True), Field("CreateTime", "time", read_only=True),
    D("UpdateDate", read_only=True), Field("UpdateTime", "time", read_only=True),
)
DOCUMENT_STAMPS = (
    D("CreationDate", read_only=True), Field("DocTime", "time", read_only=True),
    D("UpdateDate", read_only=True), Field("UpdateTime", "time", read_only=True),
)

CONTACT_EMPLOYEE = (
    S("CardCode", read_only=True), S("Name"), S("Position"), S("Address"), S("Phone1"),
    S("Phone2"), S("MobilePhone"), S("E_Mail"), S("FirstName"), S("MiddleName"), S("LastName"),
    S("Title"), E("Active", "BoYesNoEnum", "tYES"), I("InternalCode", read_only=True),
)

# Collections a PATCH appends to: a member sent with its full key (these fields) is updated in
# place; one without is appended, and refused with -2035 when it repeats the members' unique
# fields. Other collections (ItemPrices, PaymentInvoices, EventCollection) are replaced.
COLLECTION_KEYS: dict[str, tuple[str, ...]] = {
    "DocumentLines": ("LineNum",),
    "BPAddresses": ("BPCode", "AddressName", "AddressType", "RowNum"),
    "ContactEmployees": ("InternalCode",),
}
COLLECTION_UNIQUE: dict[str, tuple[str, ...]] = {
    "BPAddresses": ("AddressName", "AddressType"),
    "ContactEmployees": ("Name",),
}

BP_ADDRESS = (
    S("AddressName"), S("Street"), S("Block"), S("ZipCode"), S("City"), S("County"),
    S("Country"), S("State"), E("AddressType", "BoAddressType", "bo_BillTo"),
    S("BPCode", read_only=True), I("RowNum", read_only=True),
)

BUSINESS_PARTNERS = EntitySet(
    "BusinessPartners", "BusinessPartner", "CardCode", "str", "2",
    (
        S("CardCode"), S("CardName"), E("CardType", "BoCardTypes", "cCustomer"),
        I("GroupCode", 100), S("Currency", "##"), F("CreditLimit"),
        F("CurrentAccountBalance", read_only=True), S("EmailAddress"), S("Phone1"), S("Phone2"),
        S("Cellular"), S("FederalTaxID"), S("ContactPerson"), S("Notes"), S("Address"),
        S("City"), S("ZipCode"), S("Country"), I("PriceListNum", 1),
        E("Valid", "BoYesNoEnum", "tYES"), E("Frozen", "BoYesNoEnum", "tNO"),
        *STAMPS, L("BPAddresses", "BPAddress", *BP_ADDRESS),
        L("ContactEmployees", "ContactEmployee", *CONTACT_EMPLOYEE),
    ),
)

ITEMS = EntitySet(
    "Items", "Item", "ItemCode", "str", "4",
    (
        S("ItemCode"), S("ItemName"), S("ForeignName"), E("ItemType", "BoItemTypes", "itItems"),
        I("ItemsGroupCode", 100), S("BarCode"), E("InventoryItem", "BoYesNoEnum", "tYES"),
        E("SalesItem", "BoYesNoEnum", "tYES"), E("PurchaseItem", "BoYesNoEnum", "tYES"),
        F("QuantityOnStock"), S("SalesUnit"), S("DefaultWarehouse", "01"),
        E("Valid", "BoYesNoEnum", "tYES"), E("Frozen", "BoYesNoEnum", "tNO"),
        *STAMPS,
        L(
            "ItemPrices", "ItemPrice", I("PriceList", 1), F("Price"), S("Currency"),
            F("AdditionalPrice1", None), S("AdditionalCurrency1"), F("AdditionalPrice2", None),
            S("AdditionalCurrency2"), I("BasePriceList", read_only=True),
            F("Factor", 1.0, read_only=True),
        ),
    ),
)

# Price lists (OPLN). The key is PriceListNo; an item's ItemPrices has one member per price
# list, each with a price in the list's prime currency and up to two additional currencies.
PRICE_LISTS = EntitySet(
    "PriceLists", "PriceList", "PriceListNo", "int", "37",
    (
        I("PriceListNo", read_only=True), S("PriceListName"), I("BasePriceList"),
        F("Factor", 1.0), D("ValidFrom"), D("ValidTo"), S("DefaultPrimeCurrency"),
        S("DefaultAdditionalCurrency1"), S("DefaultAdditionalCurrency2"), F("FixedAmount"),
        E("Active", "BoYesNoEnum", "tYES"),
    ),
    server_key=True,
)

DOCUMENT_LINE = (
    I("LineNum", read_only=True), S("ItemCode"), S("ItemDescription"), F("Quantity", 1.0),
    F("UnitPrice", None), F("Price", None), F("DiscountPercent"), F("LineTotal", None),
    S("TaxCode"), S("WarehouseCode", "01"), S("Currency"), I("BaseType", -1), I("BaseEntry"),
    I("BaseLine"), E("LineStatus", "BoStatus", "bost_Open", read_only=True),
    F("RemainingOpenQuantity", read_only=True),
)


def _document(name: str, object_type: str, extra: tuple[Field, ...] = ()) -> EntitySet:
    return EntitySet(
        name, "Document", "DocEntry", "int", object_type,
        (
            I("DocEntry", read_only=True), I("DocNum", read_only=True),
            E("DocType", "BoDocumentTypes", "dDocument_Items"), S("CardCode"), S("CardName"),
            D("DocDate"), D("DocDueDate"), D("TaxDate"), S("DocCurrency"), F("DocRate", 1.0),
            F("DocTotal", read_only=True), F("VatSum", read_only=True), S("NumAtCard"),
            S("Comments"), I("SalesPersonCode", -1),
            E("DocumentStatus", "BoStatus", "bost_Open", read_only=True),
            E("Cancelled", "BoYesNoEnum", "tNO", read_only=True),
            E("CancelStatus", "CancelStatusEnum", "csNo", read_only=True), S("TrackingNumber"),
            *extra,
            *DOCUMENT_STAMPS, L("DocumentLines", "DocumentLine", *DOCUMENT_LINE),
        ),
        server_key=True,
    )


ORDERS = _document("Orders", "17")
INVOICES = _document("Invoices", "13", (F("PaidToDate", read_only=True),))
DELIVERY_NOTES = _document("DeliveryNotes", "15")

INCOMING_PAYMENTS = EntitySet(
    "IncomingPayments", "Payment", "DocEntry", "int", "24",
    (
        I("DocEntry", read_only=True), I("DocNum", read_only=True),
        E("DocType", "BoRcptTypes", "rCustomer"), S("CardCode"), S("CardName"), D("DocDate"),
        D("DueDate"), S("DocCurrency"), F("CashSum"), S("CashAccount"), F("TransferSum"),
        S("TransferAccount"), D("TransferDate"), S("TransferReference"), S("Remarks"),
        S("JournalRemarks"), E("Cancelled", "BoYesNoEnum", "tNO", read_only=True),
        L(
            "PaymentInvoices", "PaymentInvoice", I("LineNum", read_only=True), I("DocEntry"),
            F("SumApplied"), E("InvoiceType", "BoRcptInvTypes", "it_Invoice"),
        ),
    ),
    server_key=True,
)

EVENT_SUBSCRIPTIONS = EntitySet(
    "EventSubscriptions", "EventSubscription", "WebhookID", "str", None,
    (
        S("WebhookID"), S("WebhookURL"), S("Description"),
        E("AuthenticationType", "AuthenticationType", "HMAC"), S("AuthenticationCred"),
        E("Handshake", "BoYesNoEnum", "tYES"), E("VerifyCertificate", "BoYesNoEnum", "tYES"),
        E("State", "WebhookState", "Active", read_only=True),
        E("WorkMode", "WebhookWorkMode", "Standard"), *STAMPS,
        L(
            "EventCollection", "EventCollectionItem", S("BusinessObject"),
            S("TransactionType"),
        ),
    ),
    auto_key=True,
)

USER_FIELDS_MD = EntitySet(
    "UserFieldsMD", "UserFieldMD", "__key", "str", None,
    (
        S("Name"), E("Type", "BoFieldTypes", "db_Alpha"), I("Size"), S("Description"),
        E("SubType", "BoFldSubTypes", "st_None"), S("LinkedTable"), S("DefaultValue"),
        S("TableName"), I("FieldID", read_only=True), I("EditSize"),
        E("Mandatory", "BoYesNoEnum", "tNO"), S("LinkedUDO"), S("LinkedSystemObject"),
        L("ValidValuesMD", "ValidValueMD", S("Value"), S("Description")),
    ),
    key_parts=("TableName", "FieldID"),
)

ENTITY_SETS: dict[str, EntitySet] = {
    s.name: s
    for s in (BUSINESS_PARTNERS, ITEMS, PRICE_LISTS, ORDERS, DELIVERY_NOTES, INVOICES,
              INCOMING_PAYMENTS, EVENT_SUBSCRIPTIONS, USER_FIELDS_MD)
}

# Navigation properties ($expand): entity set -> {property: (target entity set, foreign key)}.
# DocumentLines and other collections are not navigation properties: they always come along.
NAVIGATION: dict[str, dict[str, tuple[str, str]]] = {
    "Orders": {"BusinessPartner": ("BusinessPartners", "CardCode")},
    "Invoices": {"BusinessPartner": ("BusinessPartners", "CardCode")},
    "DeliveryNotes": {"BusinessPartner": ("BusinessPartners", "CardCode")},
    "IncomingPayments": {"BusinessPartner": ("BusinessPartners", "CardCode")},
}

# Entity sets whose writes are announced to webhook subscribers.
WEBHOOK_OBJECTS = ("BusinessPartners", "Items", "Orders", "DeliveryNotes", "Invoices",
                   "IncomingPayments")


def enum_long(enum: str, value: str) -> str | None:
    """The long form of an enumeration value given in either form, or None if unknown."""
    members = ENUMS[enum]
    if value in members:
        return value
    for long, short in members.items():
        if short == value:
            return long
    return None

ENTITIES_NS = "SAPB1"
