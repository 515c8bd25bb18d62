"""The sObject catalog: standard objects and their fields, shaped by the org profile.

Field types follow the describe vocabulary (``string``, ``reference``, ``currency``...). Custom
fields declared in a seed are appended to their object. The catalog is rebuilt whenever the
profile or the custom fields change, so describe, SOQL and DML always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .org_profile import OrgProfile

TEXT_TYPES = {"string", "textarea", "picklist", "phone", "url", "email", "id", "reference"}
NUMBER_TYPES = {"double", "currency", "percent", "int"}
# the sub-fields of an Address compound field, in the order of the change event's Address record
ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude",
                 "GeocodeAccuracy")
GEOCODE_ACCURACY = ("Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip",
                    "Neighborhood", "City", "County", "State", "Unknown")
PERSON_NAME_PARTS = ("Salutation", "FirstName", "LastName")


@dataclass
class FieldDef:
    name: str
    type: str
    length: int = 0
    required: bool = False
    createable: bool = True
    updateable: bool = True
    reference_to: str | None = None
    relationship_name: str | None = None
    external_id: bool = False
    unique: bool = False
    custom: bool = False
    picklist: tuple[str, ...] = ()
    components: tuple[str, ...] = ()  # the object's fields that make up a compound field
    component_names: tuple[str, ...] = ()  # their names inside the change event's record
    compound_of: str | None = None
    label: str = ""

    @property
    def filterable(self) -> bool:
        return self.type != "address" and not (self.type == "textarea" and self.length > 255)


@dataclass
class ObjectDef:
    name: str
    key_prefix: str
    label: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    child_relationships: dict[str, tuple[str, str]] = field(default_factory=dict)
    createable: bool = True

    @cached_property
    def blank_record(self) -> dict:
        """A record with every stored field set to None (compound fields are computed)."""
        return {f.name: None for f in self.fields.values() if f.type != "address"}

    @cached_property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]

    @cached_property
    def unique_fields(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.unique]

    def field(self, name: str) -> FieldDef | None:
        found = self.fields.get(name)
        if found is None:
            found = self._lower().get(name.lower())
        return found

    def _lower(self) -> dict[str, FieldDef]:
        cache = self.__dict__.get("_lower_cache")
        if cache is None or len(cache) != len(self.fields):
            cache = {k.lower(): v for k, v in self.fields.items()}
            self.__dict__["_lower_cache"] = cache
        return cache

    def relationship(self, name: str) -> FieldDef | None:
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == name.lower():
                return f
        return None

    def child_relationship(self, name: str) -> tuple[str, str] | None:
        for rel, target in self.child_relationships.items():
            if rel.lower() == name.lower():
                return target
        return None


def _f(name: str, ftype: str, length: int = 0, **kw) -> FieldDef:
    if ftype in ("string", "textarea", "phone", "url", "email", "picklist") and not length:
        length = 255
    if ftype in ("id", "reference"):
        length = 18
    return FieldDef(name, ftype, length, label=kw.pop("label", name), **kw)


def _ref(name: str, target: str, rel: str, **kw) -> FieldDef:
    return _f(name, "reference", reference_to=target, relationship_name=rel, **kw)


def _address(prefix: str) -> list[FieldDef]:
    kinds = {"Street": ("textarea", 255), "City": ("string", 40), "State": ("string", 80),
             "PostalCode": ("string", 20), "Country": ("string", 80),
             "Latitude": ("double", 0), "Longitude": ("double", 0),
             "GeocodeAccuracy": ("picklist", 40)}
    parts = [
        _f(prefix + part, kinds[part][0], kinds[part][1], compound_of=prefix + "Address",
           picklist=GEOCODE_ACCURACY if part == "GeocodeAccuracy" else ())
        for part in ADDRESS_PARTS
    ]
    compound = _f(prefix + "Address", "address", createable=False, updateable=False,
                  components=tuple(p.name for p in parts), component_names=ADDRESS_PARTS)
    return [*parts, compound]


def _person_name() -> list[FieldDef]:
    """Contact.Name: a read-only full name over REST, a compound record in change events."""
    return [
        _f("Salutation", "picklist", 40, compound_of="Name",
           picklist=("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        _f("FirstName", "string", 40, compound_of="Name"),
        _f("LastName", "string", 80, required=True, compound_of="Name"),
        _f("Name", "string", 121, createable=False, updateable=False,
           components=PERSON_NAME_PARTS, component_names=PERSON_NAME_PARTS),
    ]


def _system_fields() -> list[FieldDef]:
    ro = {"createable": False, "updateable": False}
    return [
        _f("Id", "id", **ro),
        _f("IsDeleted", "boolean", **ro),
        _f("CreatedDate", "datetime", **ro),
        _ref("CreatedById", "User", "CreatedBy", **ro),
        _f("LastModifiedDate", "datetime", **ro),
        _ref("LastModifiedById", "User", "LastModifiedBy", **ro),
        _f("SystemModstamp", "datetime", **ro),
    ]


# StageName's values are the org's active OpportunityStage records (set after the catalog is
# built); this is only the starting point
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote",
          "Negotiation/Review", "Closed Won", "Closed Lost")
FORECAST_CATEGORY_NAMES = ("Omitted", "Pipeline", "Best Case", "Commit", "Closed")
READ_ONLY_OBJECTS = {"User", "OpportunityStage"}
CURRENCY_OBJECTS = {"Account", "Opportunity", "OpportunityLineItem", "Product2", "PricebookEntry",
                    "Order", "Invoice", "Contact"}


def _standard_objects(profile: OrgProfile) -> list[ObjectDef]:
    ro = {"createable": False, "updateable": False}
    owner = _ref("OwnerId", "User", "Owner")
    specs: list[tuple[str, str, list[FieldDef]]] = [
        ("User", "005", [
            _f("Username", "string", 80, **ro), _f("Name", "string", 121, **ro),
            _f("Email", "email", 128, **ro), _f("IsActive", "boolean", **ro),
        ]),
        ("Account", "001", [
            _f("Name", "string", 255, required=True), _f("AccountNumber", "string", 40),
            _f("Type", "picklist", picklist=("Customer", "Partner", "Prospect", "Other")),
            _f("Industry", "picklist"), _f("Phone", "phone", 40), _f("Fax", "phone", 40),
            _f("Website", "url"), *_address("Billing"), *_address("Shipping"),
            _f("Description", "textarea", 32000), owner,
        ]),
        ("Contact", "003", [
            *_person_name(), _ref("AccountId", "Account", "Account"),
            _f("Email", "email", 80), _f("Phone", "phone", 40), _f("Title", "string", 128),
            owner,
        ]),
        ("Opportunity", "006", [
            _f("Name", "string", 120, required=True), _ref("AccountId", "Account", "Account"),
            _f("StageName", "picklist", required=True, picklist=STAGES),
            _f("CloseDate", "date", required=True), _f("Amount", "currency"),
            _f("Probability", "percent"),
            _f("ForecastCategoryName", "picklist", 40, picklist=FORECAST_CATEGORY_NAMES),
            _f("IsWon", "boolean", **ro),
            _f("IsClosed", "boolean", **ro), _ref("Pricebook2Id", "Pricebook2", "Pricebook2"),
            _f("Type", "picklist"), _f("Description", "textarea", 32000), owner,
        ]),
        ("OpportunityStage", "01J", [
            _f("MasterLabel", "string", 255, **ro), _f("ApiName", "string", 255, **ro),
            _f("IsActive", "boolean", **ro), _f("SortOrder", "int", **ro),
            _f("IsClosed", "boolean", **ro), _f("IsWon", "boolean", **ro),
            _f("ForecastCategory", "picklist", 40, **ro,
               picklist=("Omitted", "Pipeline", "BestCase", "Forecast", "Closed")),
            _f("ForecastCategoryName", "picklist", 40, **ro, picklist=FORECAST_CATEGORY_NAMES),
            _f("DefaultProbability", "percent", **ro), _f("Description", "string", 255, **ro),
        ]),
        ("Product2", "01t", [
            _f("Name", "string", 255, required=True), _f("ProductCode", "string", 255),
            _f("Family", "picklist"), _f("IsActive", "boolean"),
            _f("Description", "textarea", 4000),
        ]),
        ("Pricebook2", "01s", [
            _f("Name", "string", 255, required=True), _f("IsActive", "boolean"),
            _f("IsStandard", "boolean", **ro), _f("Description", "string", 255),
        ]),
        ("PricebookEntry", "01u", [
            _ref("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, updateable=False),
            _ref("Product2Id", "Product2", "Product2", required=True, updateable=False),
            _f("Name", "string", 255, **ro), _f("ProductCode", "string", 255, **ro),
            _f("UnitPrice", "currency", required=True), _f("IsActive", "boolean"),
            _f("UseStandardPrice", "boolean"),
        ]),
        ("OpportunityLineItem", "00k", [
            _ref("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False),
            _ref("Product2Id", "Product2", "Product2", updateable=False),
            _ref("PricebookEntryId", "PricebookEntry", "PricebookEntry", updateable=False),
            _f("Name", "string", 376, **ro), _f("ProductCode", "string", 255, **ro),
            _f("Quantity", "double", required=True), _f("UnitPrice", "currency"),
            _f("ListPrice", "currency", **ro),
            _f("TotalPrice", "currency"), _f("Discount", "percent"), _f("ServiceDate", "date"),
            _f("Description", "string", 255),
        ]),
    ]
    if profile.orders_enabled:
        specs.append(("Order", "801", [
            _ref("AccountId", "Account", "Account", required=True),
            _ref("OpportunityId", "Opportunity", "Opportunity"),
            _f("OrderNumber", "string", 30, **ro), _f("Name", "string", 80),
            _f("Status", "picklist", 40, required=True, picklist=("Draft", "Activated")),
            _f("EffectiveDate", "date", required=True), _f("EndDate", "date"),
            _ref("Pricebook2Id", "Pricebook2", "Pricebook2"), _f("TotalAmount", "currency", **ro),
            _f("Description", "textarea", 32000), *_address("Billing"), owner,
        ]))
    if profile.invoice_enabled:
        specs.append(("Invoice", "3tt", [
            _f("DocumentNumber", "string", 255, **ro),
            _ref("BillingAccountId", "Account", "BillingAccount", required=True),
            _ref("ReferenceEntityId", "Order", "ReferenceEntity"),
            _f("Status", "picklist", 40, picklist=("Draft", "Posted", "Canceled")),
            _f("InvoiceDate", "date"), _f("DueDate", "date"), _f("TotalAmount", "currency"),
            _f("Balance", "currency"), _f("Description", "textarea", 32000),
        ]))
    objects = []
    for name, prefix, fields in specs:
        obj = ObjectDef(name, prefix, name, createable=name not in READ_ONLY_OBJECTS)
        for f in [*_system_fields(), *fields]:
            obj.fields[f.name] = f
        if profile.multi_currency and name in CURRENCY_OBJECTS:
            obj.fields["CurrencyIsoCode"] = _f(
                "CurrencyIsoCode", "picklist", 3, picklist=tuple(profile.currencies))
        objects.append(obj)
    return objects


CHILD_RELATIONSHIPS = {
    ("Contact", "AccountId"): "Contacts",
    ("Opportunity", "AccountId"): "Opportunities",
    ("Order", "AccountId"): "Orders",
    ("Order", "OpportunityId"): "Orders",
    ("OpportunityLineItem", "OpportunityId"): "OpportunityLineItems",
    ("PricebookEntry", "Product2Id"): "PricebookEntries",
    ("PricebookEntry", "Pricebook2Id"): "PricebookEntries",
    ("Invoice", "BillingAccountId"): "Invoices",
}


def custom_field_def(spec: dict) -> FieldDef:
    """Turn a seed's custom field declaration into a FieldDef."""
    ftype = spec.get("type", "string")
    aliases = {"text": "string", "number": "double", "checkbox": "boolean", "lookup": "reference"}
    ftype = aliases.get(ftype, ftype)
    length = int(spec.get("length", 255 if ftype in ("string", "picklist") else 0))
    if ftype == "textarea" and not length:
        length = 32000
    name = spec["name"]
    rel = None
    if ftype == "reference":
        rel = name[:-3] + "__r" if name.endswith("__c") else name
    return FieldDef(
        name, ftype, length, required=bool(spec.get("required", False)), custom=True,
        external_id=bool(spec.get("externalId", False)), unique=bool(spec.get("unique", False)),
        picklist=tuple(spec.get("values", ())), reference_to=spec.get("referenceTo"),
        relationship_name=rel, label=spec.get("label", name),
    )


def build_catalog(profile: OrgProfile,
                  custom_fields: dict[str, list[dict]]) -> dict[str, ObjectDef]:
    catalog = {obj.name: obj for obj in _standard_objects(profile)}
    for obj_name, specs in custom_fields.items():
        obj = catalog.get(obj_name)
        if obj is None:
            continue
        for spec in specs:
            fdef = custom_field_def(spec)
            obj.fields[fdef.name] = fdef
    for (child, fname), rel in CHILD_RELATIONSHIPS.items():
        parent_field = catalog.get(child) and catalog[child].fields.get(fname)
        if parent_field and parent_field.reference_to in catalog:
            catalog[parent_field.reference_to].child_relationships.setdefault(rel, (child, fname))
    return catalog
