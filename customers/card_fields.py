"""Which of the card's own fields are personal, plain or reference data, and which belong
to an organisation only: the lists the card's services, forms, API and merge share (a leaf
module, so that declarative modules such as ``merge_policies`` may import it)."""

# Personal fields of the card that a caller may set and reveal.
PERSONAL_FIELDS = (
    "name",
    "phone",
    "email",
    "address",
    "birth_date",
    "headquarters_address",
    "trading_address",
    "mailing_address",
    "managers",
)
# Plain (not personal) business facts that only an organisation's card holds.
ORGANISATION_PLAIN_FIELDS = (
    "website",
    "founded_on",
    "registered_capital",
    "registered_capital_currency",
    "employees",
    "equipment_summary",
    "real_estate_summary",
    "management_age_structure",
    "requested_credit_limit",
)
# Plain fields every card holds: the language the customer reads (campaign e-mails).
COMMON_PLAIN_FIELDS = ("language",)
PLAIN_FIELDS = (*ORGANISATION_PLAIN_FIELDS, *COMMON_PLAIN_FIELDS)
# What only an organisation's card holds (DESIGN §6.1): its addresses, managers and the
# plain business facts.
ORGANISATION_FIELDS = (
    "headquarters_address",
    "trading_address",
    "mailing_address",
    "managers",
    *ORGANISATION_PLAIN_FIELDS,
)
REFERENCE_FIELDS = ("business_type", "tier")
EDITABLE_FIELDS = (*PERSONAL_FIELDS, *PLAIN_FIELDS, *REFERENCE_FIELDS, "kind")
