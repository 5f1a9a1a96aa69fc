"""The customers' and contacts' import targets: their columns and row checkers.

The framework (``crm.imports``) reads the file, maps its columns, runs the job (dry run,
all-or-nothing or valid rows only, progress, capped errors); this module says what a row of
each target must hold and writes it through ``customer_create`` / ``contact_save``.
Duplicates inside the file are found through the rows' blind indexes, duplicates against the
database through batched look-ups of the search digests; a row already imported is reported
as a duplicate, so importing the same file twice creates nothing twice. Errors never quote a
cell's value (that is personal data). The jobs are run by ``customers.services.import_jobs``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from crm import encryption, imports, search_index
from crm.blind_index import blind_index
from crm.imports import bulk, checks
from crm.imports import messages as common
from crm.imports.checks import Checker, Row
from crm.imports.columns import Column
from crm.models import User
from customers import events, search
from customers import permissions as perms
from customers.models import (
    BusinessType,
    Contact,
    Customer,
    IdentityDocument,
    ImportJob,
    ServiceStage,
    StageMove,
    Tier,
)
from customers.selectors import customer_list
from customers.services.cards import (
    DocumentInput,
    _reverification_due,
    _validate_card,
    clean_document_number,
    clean_phone,
    customer_create,
    document_index,
    new_document,
    owner_check,
)
from customers.services.records import contact_save

# --- messages (English templates, translated when shown) ----------------------------------

REQUIRED = common.REQUIRED
BAD_KIND = gettext_noop("Enter organisation (机构) or individual (个人).")
FUTURE_BIRTH_DATE = gettext_noop("The birth date is in the future.")
MINOR = gettext_noop(
    "A minor's card needs a guardian and the guardian's consent: create it on the customer "
    "card instead of importing it."
)
BAD_ID_TYPE = gettext_noop(
    "Unknown document type; use resident_id (居民身份证), passport (护照), social_credit_code "
    "(统一社会信用代码), business_licence (营业执照) or other (其他)."
)
ID_NUMBER_MISSING = gettext_noop("A document type is given without a document number.")
UNKNOWN_BUSINESS_TYPE = gettext_noop(
    "Unknown business type; use a code or a name from the list of business types."
)
UNKNOWN_TIER = gettext_noop("Unknown tier; use a code or a name from the list of tiers.")
UNKNOWN_OWNER = gettext_noop("There is no active user with this user name.")
NO_IDENTIFIER = gettext_noop(
    "Give a phone, an e-mail or an ID number, so that the customer is recognised when the "
    "file is imported again."
)
NO_CONTACT_IDENTIFIER = gettext_noop(
    "Give a phone or an e-mail, so that the contact is recognised when the file is imported again."
)
EXISTS_VISIBLE = gettext_noop("This customer already exists: %(code)s.")
EXISTS_HIDDEN = gettext_noop("This customer already exists and is held by another team.")
CONTACT_EXISTS = gettext_noop("This customer already has a contact with this value.")
UNKNOWN_CUSTOMER = gettext_noop("There is no customer with this code that you may change.")
BAD_CAPITAL = gettext_noop(
    "Enter the registered capital as a number that is not negative, with at most two "
    "decimals and 14 digits before them, such as 5000000 or 5,000,000.00."
)
BAD_CURRENCY = gettext_noop(
    "Unknown currency; use CNY (人民币), USD (美元), EUR (欧元), HKD (港元) or JPY (日元)."
)
BAD_LANGUAGE = gettext_noop("Unknown language; use en (English) or zh-hans (简体中文, 中文).")
SECOND_PRIMARY = gettext_noop(
    "Line %(line)s already makes another contact the primary contact of this customer."
)

# --- columns ------------------------------------------------------------------------------

_ORGANISATION_COLUMNS = ("registered_capital", "registered_capital_currency")
_PHONE_ALIASES = ("手机", "手机号", "手机号码", "电话", "联系电话", "mobile")
_EMAIL_ALIASES = ("邮箱", "电子邮箱", "电子邮件", "e_mail", "mail")
CUSTOMER_COLUMNS = (
    Column("name", ("名称", "客户名称", "姓名"), required=True),
    Column("kind", ("类型", "客户类型"), required=True),
    Column("phone", _PHONE_ALIASES),
    Column("email", _EMAIL_ALIASES),
    Column("address", ("地址",)),
    Column("id_type", ("证件类型",)),
    Column("id_number", ("证件号码", "证件号", "身份证号")),
    Column("business_type", ("业种", "行业"), required=True),
    Column("tier", ("等级", "客户等级")),
    Column("owner", ("负责人",)),
    Column("birth_date", ("出生日期",)),
    Column("registered_capital", ("注册资本", "注册资金")),
    # Optional: the capital's ISO 4217 code (or its Chinese name); CNY when left out.
    Column("registered_capital_currency", ("注册资本币种", "币种", "货币", "currency")),
    # Optional: the language the customer reads (campaign e-mails); not known when left out.
    Column("language", ("语言",)),
)
# The columns a card takes from the file besides the name, kind and references.
_CARD_COLUMNS = ("phone", "email", "address", "birth_date", "language", *_ORGANISATION_COLUMNS)
CONTACT_COLUMNS = (
    Column("customer_code", ("客户编号", "客户代码"), required=True),
    Column("name", ("姓名", "名称"), required=True),
    Column("phone", _PHONE_ALIASES),
    Column("email", _EMAIL_ALIASES),
    Column("role", ("角色", "职务")),
    Column("is_primary", ("主要联系人",)),
)


def _text(row: Row, cells: dict, column: str, model, model_field: str = "") -> str:
    return checks.text(
        row, cells, column, max_length=checks.model_max_length(model, model_field or column)
    )


def _capital(row: Row, cells: dict) -> Decimal | None:
    """The registered capital: digits with an optional decimal part, grouped or not."""
    value = checks.text(row, cells, "registered_capital").strip()
    if not value:
        return None
    plain = value.replace(",", "").replace("，", "").replace(" ", "")
    try:
        capital = Decimal(plain)
    except InvalidOperation:
        capital = None
    if (
        capital is None
        or not capital.is_finite()
        or capital < 0
        or capital >= 10**14  # the card holds 16 digits, 2 of them decimals
        or capital != capital.quantize(Decimal("0.01"))
    ):
        row.add("registered_capital", BAD_CAPITAL)
        return None
    return capital


# The capital's currency: an ISO 4217 code the card offers or its Chinese name.
CURRENCIES = checks.aliases(
    {
        Customer.Currency.CNY: ("人民币", "元", "rmb"),
        Customer.Currency.USD: ("美元", "美金"),
        Customer.Currency.EUR: ("欧元",),
        Customer.Currency.HKD: ("港元", "港币"),
        Customer.Currency.JPY: ("日元",),
    }
)


# The customer's language: a code the card offers (en, zh-hans) or its name.
LANGUAGES = checks.aliases(
    {
        "en": ("English",),
        "zh-hans": ("简体中文", "中文", "Simplified Chinese"),
    }
)


def _phone(row: Row, value: str) -> str:
    if "\x00" in value:
        row.add("phone", common.NUL_CHARACTER)
        return ""
    try:
        return clean_phone(value, "phone")
    except ValidationError as exc:
        for message in exc.message_dict.get("phone", exc.messages):
            row.add("phone", message)
        return ""


# --- customers ----------------------------------------------------------------------------


class CustomerChecker(Checker):
    field_columns = {"identity_documents": "id_number", "documents": "id_number"}
    KINDS = checks.aliases(
        {
            Customer.Kind.ORGANISATION: (
                "organization",
                "org",
                "company",
                "机构",
                "企业",
                "单位",
                "公司",
                "组织",
            ),
            Customer.Kind.INDIVIDUAL: ("person", "personal", "个人", "自然人"),
        }
    )
    ID_TYPES = checks.aliases(
        {
            IdentityDocument.Type.RESIDENT_ID: ("居民身份证", "身份证"),
            IdentityDocument.Type.PASSPORT: ("护照",),
            IdentityDocument.Type.SOCIAL_CREDIT_CODE: ("统一社会信用代码", "信用代码"),
            IdentityDocument.Type.BUSINESS_LICENCE: ("business_license", "营业执照"),
            IdentityDocument.Type.OTHER: ("其他",),
        }
    )

    def __init__(self, actor: User):
        super().__init__(actor)
        self.business_types = self._reference(BusinessType.objects.filter(is_active=True))
        self.tiers = self._reference(Tier.objects.filter(is_active=True))
        self.owners: dict[str, tuple[User | None, str]] = {}

    def column_of(self, field_name: str) -> str:
        if field_name.startswith("documents["):
            return "id_number"
        return super().column_of(field_name)

    @staticmethod
    def _reference(queryset: QuerySet) -> dict:
        found = {}
        for item in queryset:
            for label in (item.name_zh, item.name, item.code):
                if label:
                    found[checks.folded(label)] = item
        return found

    def _owner(self, username: str) -> tuple[User | None, str]:
        """The owner named in the file and the error message, if any (cached per name)."""
        if username not in self.owners:
            owner = (
                User.objects.select_related("team")
                .filter(username=username, is_active=True)
                .first()
            )
            message = UNKNOWN_OWNER if owner is None else ""
            if owner is not None:
                try:
                    owner_check(self.actor, owner, owner.team)
                except PermissionDenied as exc:
                    message = str(exc)
            self.owners[username] = (owner, message)
        return self.owners[username]

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["name"] = _text(row, cells, "name", Customer)
        if not values["name"] and not row.errors:
            row.add("name", REQUIRED)
        kind_text = checks.text(row, cells, "kind")
        values["kind"] = self.KINDS.get(checks.folded(kind_text), "")
        if not cells.get("kind"):
            row.add("kind", REQUIRED)
        elif kind_text and not values["kind"]:
            row.add("kind", BAD_KIND)
        values["phone"] = _phone(row, cells.get("phone", ""))
        values["email"] = checks.email(row, _text(row, cells, "email", Customer))
        values["address"] = _text(row, cells, "address", Customer)

        number = checks.text(row, cells, "id_number")
        type_text = checks.text(row, cells, "id_type")
        doc_type = self.ID_TYPES.get(checks.folded(type_text), "") if type_text else ""
        if type_text and not doc_type:
            row.add("id_type", BAD_ID_TYPE)
        elif not type_text and number:
            doc_type = (
                IdentityDocument.Type.SOCIAL_CREDIT_CODE
                if values["kind"] == Customer.Kind.ORGANISATION
                else IdentityDocument.Type.RESIDENT_ID
            )
        if type_text and not number:
            row.add("id_number", ID_NUMBER_MISSING)
        values["id_type"], values["id_number"] = doc_type, ""
        if number and doc_type:
            try:
                values["id_number"] = clean_document_number(doc_type, number, "id_number")
            except ValidationError as exc:
                for message in exc.message_dict.get("id_number", exc.messages):
                    row.add("id_number", message)

        business_text = checks.text(row, cells, "business_type")
        values["business_type"] = self.business_types.get(checks.folded(business_text))
        if not cells.get("business_type"):
            row.add("business_type", REQUIRED)
        elif business_text and values["business_type"] is None:
            row.add("business_type", UNKNOWN_BUSINESS_TYPE)
        tier_text = checks.text(row, cells, "tier")
        values["tier"] = self.tiers.get(checks.folded(tier_text)) if tier_text else None
        if tier_text and values["tier"] is None:
            row.add("tier", UNKNOWN_TIER)
        values["owner"] = None
        owner_name = checks.text(row, cells, "owner")
        if owner_name:
            values["owner"], message = self._owner(owner_name)
            if message:
                row.add("owner", message)

        values["registered_capital"] = _capital(row, cells)
        values["registered_capital_currency"] = checks.coded(
            row, cells, "registered_capital_currency", CURRENCIES, BAD_CURRENCY
        )
        values["language"] = checks.coded(row, cells, "language", LANGUAGES, BAD_LANGUAGE)
        values["birth_date"] = born = checks.date(row, cells, "birth_date")
        if born is not None and born > timezone.localdate():
            row.add("birth_date", FUTURE_BIRTH_DATE)
            values["birth_date"] = None
        elif born is not None:
            probe = Customer(kind=values["kind"] or Customer.Kind.INDIVIDUAL, birth_date=born)
            if probe.is_minor:
                row.add("birth_date", MINOR)

        if not (cells.get("phone") or cells.get("email") or cells.get("id_number")):
            row.add("phone", NO_IDENTIFIER)
        for column, index in (
            ("phone", blind_index("phone", values["phone"])),
            ("email", blind_index("email", values["email"])),
            ("id_number", document_index(values["id_number"]) if values["id_number"] else ""),
        ):
            if index:
                row.keys.append((column, index))
                if first_pass:
                    self.remember(row, (column, index), column)
        return row

    DIGEST_KINDS = {
        "phone": search.CUSTOMER_PHONE,
        "email": search.CUSTOMER_EMAIL,
        "id_number": search.DOCUMENT_NUMBER,
    }

    def _holders(self, rows: list[Row]) -> dict[tuple[str, str], int]:
        """``{(column, blind index): id of the live card holding it}`` for the rows' keys.

        One query on the keys database for every kind, then the holders are checked to
        be live cards (merged cards hold none), at most two queries.
        """
        wanted: dict[str, set[str]] = {kind: set() for kind in self.DIGEST_KINDS.values()}
        for row in rows:
            for column, index in row.keys:
                wanted[self.DIGEST_KINDS[column]].add(index)
        found = search_index.ids_by_digests(wanted)
        if not found:
            return {}
        columns = {kind: column for column, kind in self.DIGEST_KINDS.items()}
        card_ids = {pk for kind, pk, _d in found if kind != search.DOCUMENT_NUMBER}
        document_ids = {pk for kind, pk, _d in found if kind == search.DOCUMENT_NUMBER}
        alive = (
            set(
                Customer.objects.exclude(status=Customer.Status.MERGED)
                .filter(pk__in=card_ids)
                .values_list("pk", flat=True)
            )
            if card_ids
            else set()
        )
        documents = (
            dict(
                IdentityDocument.objects.filter(pk__in=document_ids)
                .exclude(customer__status=Customer.Status.MERGED)
                .values_list("pk", "customer_id")
            )
            if document_ids
            else {}
        )
        holders: dict[tuple[str, str], int] = {}
        for kind, pk, index in sorted(found):
            if kind == search.DOCUMENT_NUMBER:
                if pk in documents:
                    holders.setdefault((columns[kind], index), documents[pk])
            elif pk in alive:
                holders.setdefault((columns[kind], index), pk)
        return holders

    def _refuse_existing(self, rows: list[Row], holders: dict[tuple[str, str], int]) -> None:
        """An error on each cell whose value a card already holds (named if visible)."""
        if not holders:
            return
        visible = dict(
            perms.visible_customers(
                self.actor, Customer.objects.filter(pk__in=set(holders.values()))
            ).values_list("pk", "code")
        )
        for row in rows:
            for column, index in row.keys:
                pk = holders.get((column, index))
                if pk is None:
                    continue
                if pk in visible:
                    row.add(column, EXISTS_VISIBLE, code=visible[pk])
                else:
                    row.add(column, EXISTS_HIDDEN)

    def check_database(self, rows: list[Row]) -> None:
        self._refuse_existing(rows, self._holders(rows))

    def write(self, row: Row) -> None:
        """One row through ``customer_create`` (the fallback of the bulk path)."""
        values = row.values
        documents = (
            [DocumentInput(values["id_type"], values["id_number"])] if values["id_number"] else []
        )
        card = {key: values[key] for key in _CARD_COLUMNS if values[key] not in ("", None)}
        customer_create(
            actor=self.actor,
            kind=values["kind"],
            name=values["name"],
            business_type=values["business_type"],
            owner=values["owner"],
            tier=values["tier"],
            documents=documents,
            audit=False,  # the job records one event with the counts
            **card,
        )

    # --- the bulk path ----------------------------------------------------------------

    def _first_stage(self) -> ServiceStage | None:
        """Where a new card starts (as ``customer_create``); read once per job."""
        if not hasattr(self, "_stage"):
            self._stage = ServiceStage.objects.filter(is_active=True).order_by("order").first()
        return self._stage

    def _card(self, row: Row, today) -> Customer | None:
        """The row's card as ``customer_create`` builds it, validated in Python (the file's
        checks, the service's card rules, the model's field rules; the foreign keys are
        objects already held, not looked up again), or None with the row's errors."""
        values = row.values
        card = {key: values[key] for key in _CARD_COLUMNS if values[key] not in ("", None)}
        try:
            cleaned = _validate_card(values["kind"], {"name": values["name"], **card})
        except ValidationError as exc:
            self._add_errors(row, exc)
            return None
        owner = values["owner"] or self.actor
        stage = self._first_stage()
        customer = Customer(
            kind=values["kind"],
            status=Customer.Status.PROSPECT,
            owner=owner,
            team=owner.team,
            business_type=values["business_type"],
            tier=values["tier"],
            stage=stage,
            stage_owner=owner if stage else None,
            reverification_due=_reverification_due(values["tier"], today),
            **cleaned,
        )
        # The model's own rules for the values taken from the file (lengths, formats), as
        # ``full_clean`` checks them; the other fields are set here from checked objects.
        errors: dict[str, list[str]] = {}
        for name, value in cleaned.items():
            try:
                Customer._meta.get_field(name).clean(value, customer)
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            self._add_errors(row, ValidationError(errors))
            return None
        search.organisation_name_set(customer)
        return customer

    def _add_errors(self, row: Row, exc: ValidationError) -> None:
        details = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for name, texts in details.items():
            for text in texts:
                row.add(self.column_of(name), text)

    def write_batch(self, rows: list[Row]) -> None:
        """Write a batch of checked rows in bulk: what ``customer_create`` writes for each
        (card, identity document, first stage move, each with its history record, the
        card's data key and the search digests), with a fixed number of statements.

        Runs inside the batch's transaction (``crm.imports.jobs``). Duplicates are looked
        up again for the whole batch (one query on the keys database): a card created
        since the check refuses its row here; one still being created elsewhere meets the
        unique digest, and the job then writes the batch row by row.
        """
        if not self.actor.has_perm("customers.add_customer"):
            for row in rows:
                row.add("", common.NOT_SAVED)
            return
        self._refuse_existing(rows, self._holders(rows))
        today = timezone.localdate()
        cards: list[tuple[Row, Customer]] = []
        for row in rows:
            if row.errors:
                continue
            customer = self._card(row, today)
            if customer is not None:
                cards.append((row, customer))
        if not cards:
            return
        first = bulk.counter_reserve("customer", len(cards))
        key_ids = encryption.data_keys_create(len(cards))
        customers = []
        for i, ((_row, customer), key_id) in enumerate(zip(cards, key_ids, strict=True)):
            customer.code = f"C{first + i:07d}"
            customer.data_key_id = key_id
            customers.append(customer)
        bulk.create_with_history(customers, Customer, user=self.actor)
        documents, moves = [], []
        for row, customer in cards:
            values = row.values
            if values["id_number"]:
                documents.append(
                    new_document(
                        customer, self.actor, doc_type=values["id_type"], number=values["id_number"]
                    )
                )
            if customer.stage_id:
                moves.append(
                    StageMove(
                        customer=customer,
                        data_key_id=customer.data_key_id,
                        to_stage=customer.stage,
                        responsible=customer.owner,
                        moved_by=self.actor,
                    )
                )
        bulk.create_with_history(documents, IdentityDocument, user=self.actor)
        bulk.create_with_history(moves, StageMove, user=self.actor)
        search_index.objects_digests_create([*customers, *documents])


def _write_customers(checker: CustomerChecker, rows: list[Row]) -> None:
    checker.write_batch(rows)


# --- contacts -----------------------------------------------------------------------------


class ContactChecker(Checker):
    def __init__(self, actor: User):
        super().__init__(actor)
        self.primary_lines: dict[str, int] = {}
        self.batch_customers: dict[str, Customer] = {}

    def check(self, line: int, cells: dict, *, first_pass: bool = True) -> Row:
        row = Row(line)
        values = row.values
        values["customer_code"] = checks.text(row, cells, "customer_code")
        if not cells.get("customer_code"):
            row.add("customer_code", REQUIRED)
        values["name"] = _text(row, cells, "name", Contact)
        if not cells.get("name"):
            row.add("name", REQUIRED)
        values["phone"] = _phone(row, cells.get("phone", ""))
        values["email"] = checks.email(row, _text(row, cells, "email", Contact))
        values["role"] = _text(row, cells, "role", Contact)
        values["is_primary"] = checks.boolean(row, cells, "is_primary")
        if not (cells.get("phone") or cells.get("email")):
            row.add("phone", NO_CONTACT_IDENTIFIER)
        code = values["customer_code"]
        for column, value in (("phone", values["phone"]), ("email", values["email"])):
            index = blind_index(column, value) if value else ""
            if index and code:
                row.keys.append((column, index))
                if first_pass:
                    self.remember(row, (code, column, index), column)
        if first_pass and values["is_primary"] and code:
            first = self.primary_lines.setdefault(code, line)
            if first != line:
                row.add("is_primary", SECOND_PRIMARY, line=first)
        return row

    def customers_by_code(self, codes: set[str]) -> dict[str, Customer]:
        """The customers with these codes that the importer may change (one query)."""
        found = customer_list(user=self.actor).filter(code__in=codes)
        return {c.code: c for c in found if perms.can_change(self.actor, c)}

    def check_database(self, rows: list[Row]) -> None:
        from crm import search_index

        codes = {row.values["customer_code"] for row in rows if row.values["customer_code"]}
        if not codes:
            return
        customers = self.customers_by_code(codes)
        phones = {index for row in rows for column, index in row.keys if column == "phone"}
        emails = {index for row in rows for column, index in row.keys if column == "email"}
        existing: set[tuple[str, str, str]] = set()
        if customers and (phones or emails):
            found = [
                (column, pk, index)
                for column, kind, digests in (
                    ("phone", search.CONTACT_PHONE, phones),
                    ("email", search.CONTACT_EMAIL, emails),
                )
                for pk, index in search_index.ids_by_digest(kind, digests)
            ]
            holders = dict(
                Contact.objects.filter(
                    pk__in={pk for _c, pk, _i in found}, customer__code__in=set(customers)
                ).values_list("pk", "customer__code")
            )
            for column, pk, index in found:
                if pk in holders:
                    existing.add((holders[pk], column, index))
        for row in rows:
            code = row.values["customer_code"]
            if not code:
                continue
            if code not in customers:
                row.add("customer_code", UNKNOWN_CUSTOMER)
                continue
            for column, index in row.keys:
                if (code, column, index) in existing:
                    row.add(column, CONTACT_EXISTS)

    def prepare(self, rows: list[Row]) -> None:
        self.batch_customers = self.customers_by_code({r.values["customer_code"] for r in rows})

    def write(self, row: Row) -> None:
        values = row.values
        customer = self.batch_customers.get(values["customer_code"])
        if customer is None:  # it left the importer's reach since the check
            raise ValidationError({"customer_code": [UNKNOWN_CUSTOMER]})
        contact_save(
            actor=self.actor,
            customer=customer,
            name=values["name"],
            phone=values["phone"],
            email=values["email"],
            role=values["role"],
            is_primary=values["is_primary"],
            audit=False,  # the job records one event with the counts
        )


def register_import_targets() -> None:
    """Customers and contacts as import targets (``CustomersConfig.ready``)."""
    imports.register(
        imports.ImportTarget(
            key=ImportJob.Target.CUSTOMERS.value,
            label=gettext_lazy("Customers"),
            permission="customers.add_customer",
            columns=CUSTOMER_COLUMNS,
            checker=CustomerChecker,
            batch_writer=_write_customers,
            audit_action=events.CUSTOMERS_IMPORTED,
            order=10,
        )
    )
    imports.register(
        imports.ImportTarget(
            key=ImportJob.Target.CONTACTS.value,
            label=gettext_lazy("Contacts"),
            permission="customers.add_contact",
            columns=CONTACT_COLUMNS,
            checker=ContactChecker,
            audit_action=events.CUSTOMERS_IMPORTED,
            order=20,
        )
    )


__all__ = [
    "CONTACT_COLUMNS",
    "CUSTOMER_COLUMNS",
    "ContactChecker",
    "CustomerChecker",
    "register_import_targets",
]
