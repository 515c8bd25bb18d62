"""Example configurations written by ``hub init --example NAME``.

``sapb1-salesforce`` is the configuration of the three flows between SAP Business One and
Salesforce; ``hub demo`` writes the same text with the emulators' addresses, so what the demo
runs is what a user starts from.
"""

from __future__ import annotations

SAPB1_SALESFORCE = """\
# ml-connector: SAP Business One <-> Salesforce. Reference: README.md.
# Secrets are never written here: {{vault = "NAME"}} (hub creds set NAME), {{env = "VAR"}} or
# {{file = "PATH"}}. Check the connections first: hub ping.

[hub]
data_dir = "{data_dir}"
log_level = "INFO"
workers = 4
# store = "postgresql://hub@127.0.0.1:5432/hub"   # scale-out store instead of SQLite

[plugins.sapb1]
enabled = true
service_layer_url = "{sap_url}"
company_db = "{sap_company}"
username = "{sap_user}"
password = {{vault = "sap-password"}}
{sap_ca}

[plugins.salesforce]
enabled = true
instance_url = "{sf_url}"
client_id = "{sf_client_id}"
client_secret = {{vault = "sf-client-secret"}}
pubsub_endpoint = "{sf_pubsub}"
{sf_ca}

# -- 1. Opportunity -> Sales Order ---------------------------------------------------------
# A won opportunity becomes an SAP B1 sales order for the business partner whose CardCode is
# the account's AccountNumber. Line items become document lines; an opportunity without line
# items becomes one line of the service item below with the amount. The opportunity id goes
# into the order's U_SFOpportunityId, so an order is never created twice.
[flows.opportunities-to-orders]
source = "salesforce.opportunities"
matcher = "hub.all_of"       # the business partner, then every line's item
mapping = "hub.declarative"
sink = "sapb1.sales_order"
poll_interval = 1            # change data capture streams; each pass hands over what arrived

[flows.opportunities-to-orders.source_options]
mode = "auto"                # CDC where the org publishes it, SOQL polling otherwise
fields = ["CurrencyIsoCode"] # multi-currency orgs; single-currency: [] and DocCurrency const
# the hub's own writes to opportunities come back as change events: these fields are its own
echo_fields = ["SAP_Order_DocNum__c", "SAP_Order_DocEntry__c", "SAP_Invoice_DocNum__c",
               "SAP_Invoiced_Total__c", "SAP_Paid_To_Date__c", "SAP_Outstanding__c",
               "SAP_Payment_Status__c", "SAP_Last_Payment_Date__c", "SAP_Fulfilment_Status__c",
               "SAP_Delivered_Quantity__c", "SAP_Last_Delivery_Date__c", "SAP_Tracking_Numbers__c"]

[flows.opportunities-to-orders.matcher_options]
matchers = [
    # field: where the account's CardCode is (Account.AccountNumber, or a custom field)
    {{name = "sapb1.business_partner_by_code", options = {{field = "Account.AccountNumber"}}}},
    {{name = "sapb1.item_by_code", options = {{lines_field = "OpportunityLineItems"}}}},
]

[flows.opportunities-to-orders.mapping_options]
label = "Name"                                 # names the opportunity in parked reasons
when = {{path = "IsWon", equals = true}}        # or {{path = "StageName", in = ["Closed Won"]}}

[flows.opportunities-to-orders.mapping_options.fields]
CardCode = {{match = "CardCode"}}
DocDate = {{path = "CloseDate", date = "%Y-%m-%d"}}
DocDueDate = {{path = "CloseDate", date = "%Y-%m-%d"}}
DocCurrency = {{path = "CurrencyIsoCode", map = "currency", default = "USD"}}
Comments = {{path = "Name", truncate = 254}}

[flows.opportunities-to-orders.mapping_options.lines.DocumentLines]
from = "OpportunityLineItems"

[flows.opportunities-to-orders.mapping_options.lines.DocumentLines.fields]
ItemCode = "ProductCode"
Quantity = "Quantity"
UnitPrice = {{path = "UnitPrice", round = 2}}
DiscountPercent = {{path = "Discount", default = 0}}

# an opportunity without line items: one line of a service item with the amount
[flows.opportunities-to-orders.mapping_options.lines.DocumentLines.when_empty]
ItemCode = {{const = "{service_item}"}}
Quantity = {{const = 1}}
UnitPrice = {{record = "Amount", round = 2}}

# Salesforce currency -> SAP currency code; a currency not listed parks the opportunity
[flows.opportunities-to-orders.mapping_options.value_maps.currency]
USD = "USD"
EUR = "EUR"
GBP = "GBP"

[flows.opportunities-to-orders.sink_options]
key_field = "U_SFOpportunityId"   # a UDF on ORDR, or NumAtCard

# -- 1b. The order's numbers back on the opportunity ----------------------------------------
[flows.orders-to-opportunities]
source = "sapb1.orders"
matcher = "salesforce.opportunity_by_key"
mapping = "hub.declarative"
sink = "salesforce.opportunity_fields"
poll_interval = {sap_poll}

[flows.orders-to-opportunities.matcher_options]
key_field = "U_SFOpportunityId"

[flows.orders-to-opportunities.mapping_options]
when = {{path = "U_SFOpportunityId", not_empty = true}}   # orders entered in SAP are left alone

[flows.orders-to-opportunities.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Order_DocNum__c = {{path = "DocNum", owner = "sapb1"}}
SAP_Order_DocEntry__c = {{path = "DocEntry", owner = "sapb1"}}

[flows.orders-to-opportunities.sink_options]
fields = ["SAP_Order_DocNum__c", "SAP_Order_DocEntry__c"]

# -- 2. Account -> Business Partner ----------------------------------------------------------
# Salesforce owns the master data it maps; SAP owns credit limit and balances.
[flows.accounts-to-partners]
source = "salesforce.accounts"
mapping = "hub.declarative"
sink = "sapb1.business_partner"
poll_interval = 1

[flows.accounts-to-partners.source_options]
mode = "auto"
echo_fields = ["SAP_Credit_Limit__c", "SAP_Balance__c", "SAP_Overdue_Amount__c"]
# an account the hub creates for a customer entered in SAP first (partners-to-accounts) is
# read, not dropped as the hub's own write: its id reaches the partner's U_SFAccountId at once
own_creates = "read"

[flows.accounts-to-partners.mapping_options]
label = "Name"
when = {{path = "AccountNumber", not_empty = true}}   # accounts without a number stay in Salesforce

[flows.accounts-to-partners.mapping_options.fields]
CardCode = "AccountNumber"
CardName = {{path = "Name", truncate = 100}}
CardType = {{const = "cCustomer"}}
Phone1 = {{path = "Phone", truncate = 20}}
Address = {{path = "BillingStreet", truncate = 100}}
City = {{path = "BillingCity", truncate = 100}}
ZipCode = {{path = "BillingPostalCode", truncate = 20}}
Country = {{path = "BillingCountry", map = "country"}}   # none on the account: SAP's stays
U_SFAccountId = "Id"
CreditLimit = {{path = "SAP_Credit_Limit__c", owner = "sapb1"}}   # SAP's: never written there

[flows.accounts-to-partners.mapping_options.value_maps.country]
"United States" = "US"
USA = "US"
Germany = "DE"
"United Kingdom" = "GB"
France = "FR"
US = "US"          # the SAP codes an account created from a partner carries
DE = "DE"
GB = "GB"
FR = "FR"
"*" = ""           # a country not listed clears the partner's

# -- 3. Invoices, payments and balances -> Salesforce ----------------------------------------
# Each sales order with what was invoiced and paid on it: the invoices based on the order (or
# on one of its deliveries) and the incoming payments applied to them. The order carries its
# opportunity's id in U_SFOpportunityId (written by opportunities-to-orders), so invoices need
# no id of their own. An invoice based on no order comes as its own record (key
# invoice-<DocEntry>) with its own U_SFOpportunityId. Each day the invoices that fell due are
# read once, so an opportunity turns overdue the day after the due date.
[flows.invoices-to-opportunities]
source = "sapb1.order_billing"
matcher = "salesforce.opportunity_by_key"
mapping = "hub.declarative"
sink = "salesforce.opportunity_fields"
poll_interval = {sap_poll}

[flows.invoices-to-opportunities.matcher_options]
key_field = "U_SFOpportunityId"
# Orgs that keep the SAP order number in a custom field of the opportunity match by it
# instead (the order's DocNum is on every record; the when below then tests DocNum):
# key_field = "DocNum"
# opportunity_field = "SAP_Order_DocNum__c"

[flows.invoices-to-opportunities.mapping_options]
when = {{path = "U_SFOpportunityId", not_empty = true}}

[flows.invoices-to-opportunities.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Invoice_DocNum__c = "LastInvoiceDocNum"                  # the newest invoice
SAP_Invoiced_Total__c = {{path = "InvoicedTotal", round = 2}}
SAP_Paid_To_Date__c = {{path = "PaidToDate", round = 2, default = 0}}
SAP_Outstanding__c = {{path = "Outstanding", round = 2}}
SAP_Payment_Status__c = "PaymentStatus"   # open, partially paid, paid, overdue
SAP_Last_Payment_Date__c = {{path = "LastPaymentDate", date = "%Y-%m-%d"}}

[flows.invoices-to-opportunities.sink_options]
fields = ["SAP_Invoice_DocNum__c", "SAP_Invoiced_Total__c", "SAP_Paid_To_Date__c",
          "SAP_Outstanding__c", "SAP_Payment_Status__c", "SAP_Last_Payment_Date__c"]

# Orgs with the Invoice object (Revenue Cloud) can keep each invoice there instead, upserted by
# an external-id field holding the SAP DocNum (target = "order" keeps them on Orders):
# [flows.invoices-to-salesforce-invoices]
# source = "sapb1.invoices"
# mapping = "hub.declarative"
# sink = "salesforce.invoice"
# [flows.invoices-to-salesforce-invoices.sink_options]
# target = "invoice"
# external_id_field = "SAP_DocNum__c"
# [flows.invoices-to-salesforce-invoices.mapping_options.fields]
# SAP_DocNum__c = "DocNum"
# Balance = {{subtract = ["DocTotal", "PaidToDate"]}}

# Credit limit, balance and overdue amount of each business partner on its account (the
# overdue amount: the unpaid part of open invoices past due, recomputed when the partner, one
# of its invoices or payments changes, and when the day turns). A customer created in SAP
# first (a walk-in order, an imported list) creates its account, or links the account whose
# AccountNumber is its CardCode; Salesforce owns the master data from then on (create_only:
# written only when the hub creates the account), so this flow and accounts-to-partners never
# fight over a field. The new account comes back through accounts-to-partners at once
# (own_creates = "read" there), which writes its id into the partner's U_SFAccountId; the
# account starts with the partner's address, so that write leaves the address as it was.
[flows.partners-to-accounts]
source = "sapb1.partner_balances"
mapping = "hub.declarative"
sink = "salesforce.account"
poll_interval = {sap_poll}

[flows.partners-to-accounts.mapping_options]
label = "CardName"
when = {{path = "CardType", equals = "cCustomer"}}

[flows.partners-to-accounts.mapping_options.fields]
AccountNumber = "CardCode"
Name = {{path = "CardName", truncate = 255, required = true}}
Phone = {{path = "Phone1", truncate = 40}}
BillingCity = {{path = "City", truncate = 40}}
BillingStreet = {{path = "Address", truncate = 255}}
BillingPostalCode = {{path = "ZipCode", truncate = 20}}
BillingCountry = {{path = "Country", map = "country_code"}}
SAP_Credit_Limit__c = {{path = "CreditLimit", default = 0}}
SAP_Balance__c = {{path = "CurrentAccountBalance", default = 0}}
SAP_Overdue_Amount__c = {{path = "OverdueAmount", default = 0}}

# SAP country codes the account may carry (accounts-to-partners maps them back); any other
# leaves the account without a country, and the partner keeps its own
[flows.partners-to-accounts.mapping_options.value_maps.country_code]
US = "US"
DE = "DE"
GB = "GB"
FR = "FR"
"*" = ""

[flows.partners-to-accounts.sink_options]
match_field = "AccountNumber"
create_only = ["Name", "Phone", "BillingCity", "BillingStreet", "BillingPostalCode",
               "BillingCountry"]   # Salesforce's once the account exists
"""

REFDATA = """\

# -- 4. Items -> Products and price books ---------------------------------------------------
# SAP items become Product2 records (ProductCode = ItemCode); SAP price list 1 feeds the
# standard price book, the lists under price_books feed named price books (created if
# missing). One entry per product, price book and currency: the price SAP holds in that
# currency (Price, AdditionalPrice1/2), else the price converted with `rates`. Entries are
# deactivated, never deleted, when the item is deactivated or loses its price.
[flows.items-to-products]
enabled = {refdata_enabled}
source = "sapb1.items"
mapping = "hub.declarative"
sink = "salesforce.products"
poll_interval = {sap_poll}

[flows.items-to-products.source_options]
# groups = [100]                  # only these item groups (ItemsGroupCode)
# where = {{U_SyncToCRM = "Y"}}    # only items with this UDF value

[flows.items-to-products.mapping_options]
label = "ItemName"

[flows.items-to-products.mapping_options.fields]
ProductCode = "ItemCode"
Name = {{path = "ItemName", truncate = 255, required = true}}
Description = {{path = "ForeignName", truncate = 4000}}
IsActive = {{path = "SalesActive", map = "active"}}   # valid, not frozen, a sales item

[flows.items-to-products.mapping_options.lines.Prices]
from = "ItemPrices"        # one member per SAP price list

[flows.items-to-products.mapping_options.lines.Prices.fields]
PriceList = "PriceList"
Price = "Price"
Currency = "Currency"
AdditionalPrice1 = "AdditionalPrice1"
AdditionalCurrency1 = "AdditionalCurrency1"
AdditionalPrice2 = "AdditionalPrice2"
AdditionalCurrency2 = "AdditionalCurrency2"

[flows.items-to-products.mapping_options.value_maps.active]
tYES = true
tNO = false

[flows.items-to-products.sink_options]
standard_price_list = 1
price_books = {{"2" = "{partner_book}"}}    # SAP price list number = price book name
currencies = ["USD", "EUR"]       # multi-currency orgs; single-currency: currency = "USD"
# rates = {{USD = 1.0, EUR = 0.92}} # for a currency SAP holds no price in
# currency_codes = {{"$" = "USD"}}  # the company's own SAP currency codes -> ISO codes

# -- 5. Order fulfilment -> Opportunity ------------------------------------------------------
# The order's status (open, partly delivered, delivered, invoiced, closed, cancelled) and its
# deliveries (quantity, last date, tracking numbers) on the opportunity that won it. A delivery
# cancelled in SAP (and the cancellation document SAP adds for it) counts for nothing; an
# invoice based on the order or on one of its deliveries makes it invoiced.
[flows.fulfilment-to-opportunities]
enabled = {refdata_enabled}
source = "sapb1.order_fulfilment"
matcher = "salesforce.opportunity_by_key"
mapping = "hub.declarative"
sink = "salesforce.opportunity_fields"
poll_interval = {sap_poll}

[flows.fulfilment-to-opportunities.matcher_options]
key_field = "U_SFOpportunityId"

[flows.fulfilment-to-opportunities.mapping_options]
when = {{path = "U_SFOpportunityId", not_empty = true}}

[flows.fulfilment-to-opportunities.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Fulfilment_Status__c = {{path = "FulfilmentStatus", owner = "sapb1"}}
SAP_Delivered_Quantity__c = {{path = "DeliveredQuantity", default = 0}}
SAP_Last_Delivery_Date__c = {{path = "LastDeliveryDate", date = "%Y-%m-%d"}}
SAP_Tracking_Numbers__c = {{path = "TrackingNumbers", truncate = 255}}

[flows.fulfilment-to-opportunities.sink_options]
fields = ["SAP_Fulfilment_Status__c", "SAP_Delivered_Quantity__c", "SAP_Last_Delivery_Date__c",
          "SAP_Tracking_Numbers__c"]

# Orgs that use Orders: the same on the Salesforce Order of the opportunity (switch it on
# where each won opportunity has its Order; an opportunity without one is parked)
[flows.fulfilment-to-orders]
enabled = false
source = "sapb1.order_fulfilment"
matcher = "salesforce.order_by_opportunity"
mapping = "hub.declarative"
sink = "salesforce.order_fields"
poll_interval = {sap_poll}

[flows.fulfilment-to-orders.matcher_options]
key_field = "U_SFOpportunityId"
order_field = "OpportunityId"

[flows.fulfilment-to-orders.mapping_options]
when = {{path = "U_SFOpportunityId", not_empty = true}}

[flows.fulfilment-to-orders.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Fulfilment_Status__c = "FulfilmentStatus"
SAP_Tracking_Numbers__c = {{path = "TrackingNumbers", truncate = 255}}

[flows.fulfilment-to-orders.sink_options]
fields = ["SAP_Fulfilment_Status__c", "SAP_Tracking_Numbers__c"]

# -- 6. Contacts <-> business partner contact persons ---------------------------------------
# Contacts of an account with a number become contact persons (ContactEmployees) of its
# partner and back, matched by the stored link or by e-mail within the partner: name, e-mail,
# phone and job title (Contact.Title <-> the contact person's Position; SAP's own Title field
# is the salutation, 10 characters). Each side writes only what changed; a value the other
# side already holds costs no call.
[flows.contacts-to-partners]
enabled = {refdata_enabled}
source = "salesforce.contacts"
matcher = "sapb1.business_partner_by_code"
mapping = "hub.declarative"
sink = "sapb1.contact_person"
poll_interval = {sap_poll}         # contacts can wait a few seconds; polling orgs pay per query

[flows.contacts-to-partners.source_options]
mode = "auto"
fields = ["Title"]                 # read besides the name, e-mail and phone
# what partner-contacts-to-contacts writes: the hub's own writes coming back are dropped
echo_fields = ["FirstName", "LastName", "Email", "Phone", "Title"]

[flows.contacts-to-partners.matcher_options]
field = "Account.AccountNumber"

[flows.contacts-to-partners.mapping_options]
object_label = "Contact"
when = {{path = "Account.AccountNumber", not_empty = true}}

[flows.contacts-to-partners.mapping_options.fields]
CardCode = {{match = "CardCode"}}
FirstName = {{path = "FirstName", truncate = 50}}
LastName = {{path = "LastName", truncate = 50}}
E_Mail = {{path = "Email", truncate = 100}}
Phone1 = {{path = "Phone", truncate = 20}}
Position = {{path = "Title", truncate = 90}}   # OCPR.Position; $metadata gives no lengths

[flows.partner-contacts-to-contacts]
enabled = {refdata_enabled}
source = "sapb1.contact_persons"
matcher = "salesforce.account_by_number"
mapping = "hub.declarative"
sink = "salesforce.contact"
poll_interval = {sap_poll}

[flows.partner-contacts-to-contacts.source_options]
# what contacts-to-partners writes: the hub's own writes coming back are dropped
echo_fields = ["CardCode", "FirstName", "LastName", "E_Mail", "Phone1", "Position"]

[flows.partner-contacts-to-contacts.matcher_options]
code_field = "CardCode"
account_field = "AccountNumber"

[flows.partner-contacts-to-contacts.mapping_options]
object_label = "Contact person"
when = {{all = [{{path = "CardType", equals = "cCustomer"}}, {{path = "Active", equals = "tYES"}}]}}

[flows.partner-contacts-to-contacts.mapping_options.fields]
AccountId = {{match = "Id"}}
FirstName = "FirstName"
LastName = {{path = "LastName", required = true}}
Email = "E_Mail"
Phone = "Phone1"
Title = {{path = "Position", truncate = true}}   # Contact.Title's length, from describe

[flows.partner-contacts-to-contacts.sink_options]
email_field = "Email"
"""

PLACEHOLDERS = {
    "sap_url": "https://sap.example.local:50000/b1s/v2/",
    "sap_company": "SBODEMOUS",
    "sap_user": "manager",
    "sap_ca": '# ca_bundle = "/etc/ml-connector/sap-ca.pem"   # a self-signed Service Layer',
    "sf_url": "https://acme.my.salesforce.com",
    "sf_client_id": "3MVG9...your-connected-app-consumer-key",
    "sf_pubsub": "api.pubsub.salesforce.com:7443",
    "sf_ca": '# ca_bundle = "/etc/ml-connector/corp-ca.pem"   # a TLS-inspecting proxy',
    "service_item": "SRV-SERVICES",
    "sap_poll": "10",
    "refdata_enabled": "true",
    "partner_book": "Partner",
}

EXAMPLES = {"sapb1-salesforce": SAPB1_SALESFORCE + REFDATA}


def render(name: str, data_dir: str, **values: str) -> str:
    """The example ``name`` with ``values`` filled in (placeholders for the others)."""
    return EXAMPLES[name].format(data_dir=data_dir, **{**PLACEHOLDERS, **values})
