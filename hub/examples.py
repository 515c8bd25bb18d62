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
               "SAP_Payment_Status__c"]

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
echo_fields = ["SAP_Credit_Limit__c", "SAP_Balance__c"]

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
Country = {{path = "BillingCountry", map = "country", default = ""}}
U_SFAccountId = "Id"
CreditLimit = {{path = "SAP_Credit_Limit__c", owner = "sapb1"}}   # SAP's: never written there

[flows.accounts-to-partners.mapping_options.value_maps.country]
"United States" = "US"
USA = "US"
Germany = "DE"
"United Kingdom" = "GB"
France = "FR"
"*" = ""

# -- 3. Invoices, payments and balances -> Salesforce ----------------------------------------
# An invoice carries its opportunity's id in U_SFOpportunityId (copied from the order when it
# is invoiced); payments show through the invoice's PaidToDate and status.
[flows.invoices-to-opportunities]
source = "sapb1.invoices"
matcher = "salesforce.opportunity_by_key"
mapping = "hub.declarative"
sink = "salesforce.opportunity_fields"
poll_interval = {sap_poll}

[flows.invoices-to-opportunities.matcher_options]
key_field = "U_SFOpportunityId"

[flows.invoices-to-opportunities.mapping_options]
when = {{path = "U_SFOpportunityId", not_empty = true}}

[flows.invoices-to-opportunities.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Invoice_DocNum__c = "DocNum"
SAP_Invoiced_Total__c = {{path = "DocTotal", round = 2}}
SAP_Paid_To_Date__c = {{path = "PaidToDate", round = 2, default = 0}}
SAP_Outstanding__c = {{subtract = ["DocTotal", "PaidToDate"]}}

# open, partially paid, paid, or overdue (unpaid after the due date)
[flows.invoices-to-opportunities.mapping_options.fields.SAP_Payment_Status__c]
payment_status = {{total = "DocTotal", paid = "PaidToDate", due = "DocDueDate"}}

[flows.invoices-to-opportunities.sink_options]
fields = ["SAP_Invoice_DocNum__c", "SAP_Invoiced_Total__c", "SAP_Paid_To_Date__c",
          "SAP_Outstanding__c", "SAP_Payment_Status__c"]

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

# Credit limit and balance of each business partner on its account
[flows.partners-to-accounts]
source = "sapb1.business_partners"
matcher = "salesforce.account_by_number"
mapping = "hub.declarative"
sink = "salesforce.account_fields"
poll_interval = {sap_poll}

[flows.partners-to-accounts.matcher_options]
code_field = "CardCode"
account_field = "AccountNumber"

[flows.partners-to-accounts.mapping_options]
when = {{path = "CardType", equals = "cCustomer"}}

[flows.partners-to-accounts.mapping_options.fields]
Id = {{match = "Id"}}
SAP_Credit_Limit__c = {{path = "CreditLimit", default = 0}}
SAP_Balance__c = {{path = "CurrentAccountBalance", default = 0}}

[flows.partners-to-accounts.sink_options]
fields = ["SAP_Credit_Limit__c", "SAP_Balance__c"]
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
}

EXAMPLES = {"sapb1-salesforce": SAPB1_SALESFORCE}


def render(name: str, data_dir: str, **values: str) -> str:
    """The example ``name`` with ``values`` filled in (placeholders for the others)."""
    return EXAMPLES[name].format(data_dir=data_dir, **{**PLACEHOLDERS, **values})
