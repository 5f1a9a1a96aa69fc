# ruff: noqa: E501  (the policy table keeps one endpoint per line)
"""Authorisation matrix (issue 14 item 10): every URL pattern, every role, one policy table.

``crm.security.urlmap.url_patterns()`` walks the URL configuration; ``POLICY`` declares, for
each URL name, the method the matrix probes with, where its arguments come from (a key of
the world in ``crm.security.tests.matrix_world``) and the outcome for each role, in the
order of ``ROLES``:

    +   allowed: 2xx, or a redirect to a page that is not the sign-in page
    V   the request reached validation and was refused on its contents (400/409/415): a
        probe sends no body unless its row gives one, and a view may validate its input
        before the service checks the role, so V is "not refused before validation"
    4   404 (the record is hidden from this user: DESIGN §4)
    3   403 (the role may not do this at all)
    L   sign in first: a redirect to the sign-in page, or 401 from the API

A URL name without a row, or a row without a URL, fails ``test_every_url_has_a_policy``: a
new endpoint is one new line here. Each (endpoint, role) is one test id; the world is built
once per module inside a transaction on both databases and rolled back at the end, and each
test runs in a savepoint of its own (pytest-django), so POST probes change nothing for the
next one. The Django admin is one policy group (``admin:*``): its index is probed for every
role, and every admin page must answer a staff admin without a server error.

``KNOWN_DEFECTS`` lists outcomes that disagree with the design in other apps' views: those
tests are ``xfail(strict=True)`` with the defect named, so a fix turns them into failures
that ask for the row to be corrected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.db import connections, transaction
from django.test import Client

from crm.security.tests.matrix_world import ROLES, build_world
from crm.security.urlmap import url_patterns

OUTCOME_NAMES = {
    "+": "allowed",
    "V": "refused on its contents (400/409/415)",
    "4": "404",
    "3": "403",
    "L": "sign-in",
}


@dataclass(frozen=True)
class Policy:
    method: str
    args: dict[str, str]  # URL keyword -> world key
    outcomes: dict[str, str]  # role -> "+", "V", "4", "3" or "L"
    body: dict | None = None  # sent as JSON to the API, as a form to pages


def rule(method: str, args: str, outcomes: str, body: dict | None = None) -> Policy:
    """``rule("get", "pk=customer", "L 4 + + + 4 + 4 4 + + 3")``."""
    codes = outcomes.split()
    if len(codes) != len(ROLES) or set(codes) - set(OUTCOME_NAMES):
        raise ValueError(f"one of {sorted(OUTCOME_NAMES)} per role {ROLES}: {outcomes!r}")
    pairs = dict(item.split("=", 1) for item in args.split())
    outcome = dict(zip(ROLES, codes, strict=True))
    return Policy(method=method, args=pairs, outcomes=outcome, body=body)


def get(args: str, outcomes: str) -> Policy:
    return rule("get", args, outcomes)


def post(args: str, outcomes: str, body: dict | None = None) -> Policy:
    return rule("post", args, outcomes, body)


def delete(args: str, outcomes: str) -> Policy:
    return rule("delete", args, outcomes)


# fmt: off
POLICY: dict[str, Policy] = {
    #                                      method(args,          anon oth own gra man oma gm svc smg dpo aud adm
    "home":                               get("",                "L + + + + + + + + + + +"),
    "healthz":                            get("",                "+ + + + + + + + + + + +"),
    "login":                              get("",                "+ + + + + + + + + + + +"),
    "logout":                             post("",                "L L L L L L L L L L L L"),
    "set_language":                       get("",                "+ + + + + + + + + + + +"),
    "audit:event-list":                   get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:retention":                    get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:retention-policy-update":      post("pk=policy",       "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit:legal-hold-lift":              post("pk=legal_hold",   "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit:destruction-record-download":  get("pk=record",       "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:request-list":                 get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:request-detail":               get("pk=request",      "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:request-package":              get("pk=request file_format=file_format", "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit:monitoring":                   get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:alert-acknowledge":            post("pk=alert",        "L 3 3 3 3 3 3 3 3 + 3 3"),
    "customers:list":                     get("",                "L + + + + + + + + + + 3"),
    "customers:create":                   get("",                "L + + + + + + 3 3 3 3 3"),
    "customers:visit-plan":               get("",                "L + + + + + + 3 3 3 3 3"),
    "customers:visit-record":             post("entry_id=visit",  "L + + + + + + 3 3 3 3 3"),
    "customers:merge":                    get("",                "L 3 3 3 + + + 3 3 3 3 3"),
    "customers:merge-preview":            get("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "customers:detail":                   get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customers:edit":                     get("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3"),
    "customers:tab":                      get("pk=customer tab=tab", "L 4 + + + 4 + 4 4 + + 3"),
    "customers:reveal":                   post("pk=customer",     "L 4 + 3 + 4 + 4 4 + 3 3", {"fields_": ["phone"], "purpose": "call_back"}),
    "customers:reverify":                 post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3"),
    "customers:attributes-save":          post("pk=customer",     "L 4 + 3 + 4 + 4 4 3 3 4"),
    "customers:contact-create":           post("pk=customer",     "L 4 V 3 V 4 V 4 4 3 3 4"),
    "customers:document-create":          post("pk=customer",     "L 4 V 3 V 4 V 4 4 3 3 4"),
    "customers:consent-create":           post("pk=customer",     "L 4 V V V 4 V 4 4 V 3 4"),
    "customers:consent-withdraw":         post("pk=customer consent_id=consent", "L 4 + 3 + 4 + 4 4 + 3 4"),
    "customers:interaction-create":       post("pk=customer",     "L 4 V V V 4 V 4 4 3 3 4"),
    "customers:stage-move":               post("pk=customer",     "L 4 V 3 V 4 V 4 4 3 3 4"),
    "customers:status":                   post("pk=customer",     "L 4 V 3 V 4 V 4 4 3 3 4"),
    "customers:visit-plan-add":           post("pk=customer",     "L 4 + + + 4 + 3 3 3 3 3"),
    "customers:grant-create":             post("pk=customer",     "L 4 V 3 V 4 V 4 4 3 3 4"),
    "customers:grant-revoke":             post("pk=customer grant_id=grant", "L 4 + 3 + 4 + 4 4 3 3 4"),
    "customers:board":                    get("",                "L + + + + + + + + + + 3"),
    "customers:board-move":               post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3"),
    "customers:calendar":                 get("",                "L + + + + + + + + + + 3"),
    "customers:import-list":              get("",                "L + + + + + + 3 + + + 3"),
    "customers:import-create":            get("",                "L + + + + + + 3 + 3 3 3"),
    "customers:import-detail":            get("pk=import",       "L 4 + 4 4 4 + 3 4 + + 3"),
    "customers:export":                   post("",                "L + + + + + + 3 3 3 3 3"),
    "customers:campaign-list":            get("",                "L 3 3 3 + + + 3 3 + + 3"),
    "customers:campaign-create":          get("",                "L 3 3 3 + + + 3 3 3 3 3"),
    "customers:campaign-detail":          get("pk=campaign",     "L 3 3 3 + 4 + 3 3 + + 3"),
    "customers:campaign-send":            post("pk=campaign",     "L 3 3 3 + 4 + 3 3 3 3 3"),
    "customers:unsubscribe":              get("token=unsubscribe", "+ + + + + + + + + + + +"),
    "analytics:reports":                  get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics:runs":                     get("",                "L 3 3 3 + + + 3 3 3 3 +"),
    "analytics:run":                      get("run_id=run",      "L 4 4 4 + + + 4 4 4 4 +"),
    "analytics:run-retry":                post("run_id=run",      "L 4 4 4 + + + 4 4 4 4 +"),
    "analytics:run-download":             get("run_id=run",      "L 4 4 4 4 4 4 4 4 4 4 4"),
    "complaints:board":                   get("",                "L + + + + + + + + + + 3"),
    "complaints:create":                  get("",                "L 3 3 3 3 3 3 + + 3 3 3"),
    "complaints:lookup":                  get("",                "L 3 3 3 3 3 3 + + 3 3 3"),
    "complaints:reports":                 get("",                "L 3 3 3 3 3 + 3 + 3 3 3"),
    "complaints:detail":                  get("pk=complaint",    "L 4 + + + 4 + + + + + 4"),
    "complaints:move":                    post("pk=complaint",    "L 4 3 3 3 4 3 + + 3 3 4"),
    "complaints:action":                  post("pk=complaint action=complaint_action", "L 4 + + + 4 + + + + + 4"),
    "credit:inbox":                       get("",                "L 3 3 3 + + + 3 3 3 3 3"),
    "credit:inbox-badge":                 get("",                "L + + + + + + + + + + +"),
    "credit:reports":                     get("",                "L 3 3 3 + + + 3 3 + + 3"),
    "credit:settings":                    get("",                "L 3 3 3 + + + 3 3 + + +"),
    "credit:account-submit":              post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3"),
    "credit:limit-request":               post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3", {"amount": "1000.00", "justification": "matrix"}),
    "credit:order-create":                post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:hold-place":                  post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3", {"reason": "matrix"}),
    "credit:grade-confirm":               post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:grade-facts":                 post("pk=customer",     "L 4 + 3 + 4 + 3 3 3 3 3"),
    "credit:investigation-record":        post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:response-record":             post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:terminate":                   post("pk=customer",     "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:invoice-create":              post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:payment-record":              post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:note-record":                 post("pk=customer",     "L 4 + + + 4 + 3 3 + + 3"),
    "credit:account-approve":             post("pk=account",      "L 4 + + + 4 + 3 3 + + 3"),
    "credit:account-reject":              post("pk=account",      "L 4 + + + 4 + 3 3 + + 3"),
    "credit:condition-fulfil":            post("pk=condition",    "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:limit-approve":               post("pk=limit",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:limit-reject":                post("pk=limit",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:order-release":               post("pk=order",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:order-reject":                post("pk=order",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:hold-release":                post("pk=hold",         "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit:note-status":                 post("pk=note",         "L 4 + + + 4 + 3 3 + + 3"),
    "credit:invoice-write-off":           post("pk=invoice",      "L 4 3 3 + 4 + 3 3 3 3 3"),
    "exports:detail":                     get("pk=export",       "L 4 + 4 4 4 4 4 4 4 4 4"),
    "exports:download":                   get("pk=export",       "L 4 4 4 4 4 4 4 4 4 4 4"),
    "notifications:list":                 get("",                "L + + + + + + + + + + +"),
    "notifications:badge":                get("",                "L + + + + + + + + + + +"),
    "notifications:read-all":             post("",                "L + + + + + + + + + + +"),
    "notifications:open":                 post("notification_id=notification", "L 4 + 4 4 4 4 4 4 4 4 4"),
    "security:account":                   get("",                "L + + + + + + + + + + +"),
    "security:password-change":           get("",                "L + + + + + + + + + + +"),
    "security:token-revoke":              post("pk=token",        "L 4 + 4 4 4 4 4 4 4 4 +"),
    "security:sign-out-everywhere":       post("",                "L + + + + + + + + + + +"),
    "security:two-factor-setup":          get("",                "L + + + + + + + + + + +"),
    "security:two-factor-verify":         get("",                "L + + + + + + + + + + +"),
    "security:recovery-codes-renew":      post("",                "L 3 3 3 3 3 3 3 3 3 3 3"),
    "security:role-changes":              get("",                "L + + + + + + + + + + +"),
    "security:role-change-confirm":       post("pk=role_change",  "L 4 4 4 4 4 + 4 4 + + 3"),
    "security:role-change-reject":        post("pk=role_change",  "L 4 4 4 4 4 + 4 4 + + 3"),
    "api-token":                          post("",                "V V V V V V V V V V V V"),
    "api-token-list":                     get("",                "L + + + + + + + + + + +"),
    "api-token-revoke":                   delete("pk=token",      "L 4 + 4 4 4 4 4 4 4 4 +"),
    "api-sign-out-everywhere":            post("",                "L + + + + + + + + + + +"),
    "api-me":                             get("",                "L + + + + + + + + + + +"),
    "notification-list":                  get("",                "L + + + + + + + + + + +"),
    "notifications-read":                 post("",                "L + + + + + + + + + + +"),
    "api-root":                           get("",                "L + + + + + + + + + + +"),
    "audit-event-list":                   get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-event-detail":                 get("sequence=event",  "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-request-list":                 get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-request-detail":               get("pk=request",      "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-request-close":                post("pk=request",      "L 3 3 3 3 3 3 3 3 V 3 3"),
    "audit-request-package":              get("pk=request",      "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit-legal-hold-list":              get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-legal-hold-lift":              post("pk=legal_hold",   "L 3 3 3 3 3 3 3 3 V 3 3"),
    "audit-destruction-record-list":      get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-destruction-record-detail":    get("pk=record",       "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-alert-list":                   get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "export-job-detail":                  get("pk=export",       "L 4 + 4 4 4 4 4 4 4 4 4"),
    "export-job-download":                get("pk=export",       "L 4 4 4 4 4 4 4 4 4 4 4"),
    "import-job-list":                    get("",                "L + + + + + + 3 + + + 3"),
    "import-job-detail":                  get("pk=import",       "L 4 + 4 4 4 + 3 4 + + 3"),
    "import-job-errors":                  get("pk=import",       "L 4 + 4 4 4 + 3 4 + + 3"),
    "customer-export":                    post("",                "L + + + + + + 3 3 3 3 3"),
    "customer-merge":                     post("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "customer-merge-preview":             get("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "campaign-list":                      get("",                "L 3 3 3 + + + 3 3 + + 3"),
    "campaign-detail":                    get("pk=campaign",     "L 3 3 3 + 4 + 3 3 + + 3"),
    "campaign-send":                      post("pk=campaign",     "L 3 3 3 + 4 + 3 3 3 3 3"),
    "campaign-send-list":                 get("pk=campaign",     "L 3 3 3 + 4 + 3 3 + + 3"),
    "customer-list":                      get("",                "L + + + + + + + + + + 3"),
    "customer-search":                    post("",                "L + + + + + + + + + + 3"),
    "customer-detail":                    get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-reveal":                    post("pk=customer",     "L 4 + 3 + 4 + 4 4 + 3 3", {"fields": ["phone"], "reason": "call_back"}),
    "customer-history":                   get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-reverify":                  post("pk=customer",     "L 4 + 3 + 4 + 4 4 3 3 3"),
    "customer-contacts":                  get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-documents":                 get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-consents":                  get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-withdraw-consent":          post("pk=customer consent_id=consent", "L 4 + 3 + 4 + 4 4 + 3 3"),
    "customer-interactions":              get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-stages":                    get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-attributes":                get("pk=customer",     "L 4 + + + 4 + 4 4 + + 3"),
    "customer-grant":                     post("pk=customer",     "L 4 + 3 + 4 + 4 4 3 3 3", {"user": "matrix-svc-mgr", "reason": "matrix"}),
    "customer-grants":                    get("pk=customer",     "L 4 + 3 + 4 + 4 4 + + 3"),
    "customer-revoke-grant":              delete("pk=customer grant_id=grant", "L 4 + 3 + 4 + 4 4 3 3 3"),
    "visit-plan-list":                    get("",                "L + + + + + + 3 3 3 3 3"),
    "visit-plan-record":                  post("pk=visit",        "L V V V V V V 3 3 3 3 3"),
    "business-type-list":                 get("",                "L + + + + + + + + + + +"),
    "business-type-detail":               get("pk=business_type", "L + + + + + + + + + + +"),
    "tier-list":                          get("",                "L + + + + + + + + + + +"),
    "tier-detail":                        get("pk=tier",         "L + + + + + + + + + + +"),
    "stage-list":                         get("",                "L + + + + + + + + + + +"),
    "stage-detail":                       get("pk=stage",        "L + + + + + + + + + + +"),
    "analytics-products":                 get("",                "L + + + + + + 3 3 3 3 +"),
    "analytics-sales-lines-batch":        post("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "analytics-stock-batch":              post("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "analytics-report-abc":               get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics-report-composition":       get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics-report-share":             get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics-report-seasonal":          get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics-report-products":          get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics-runs":                     get("",                "L 3 3 3 + + + 3 3 3 3 +"),
    "analytics-run":                      get("run_id=run",      "L 4 4 4 + + + 4 4 4 4 +"),
    "complaint-list":                     get("",                "L + + + + + + + + + + 3"),
    "complaint-lookup":                   post("",                "L 3 3 3 3 3 3 V V 3 3 3"),
    "complaint-reports":                  get("",                "L 3 3 3 3 3 + 3 + 3 3 3"),
    "complaint-calendar-due":             get("",                "L V V V V V V V V V V V"),
    "complaint-calendar-day":             get("day=day",         "L + + + + + + + + + + +"),
    "complaint-detail":                   get("pk=complaint",    "L 4 + + + 4 + + + + + 3"),
    "complaint-transition":               post("pk=complaint",    "L 4 3 3 3 4 3 V V 3 3 3"),
    "complaint-assign":                   post("pk=complaint",    "L 3 3 3 3 3 3 V V 3 3 3"),
    "complaint-notes":                    get("pk=complaint",    "L 4 + + + 4 + + + + + 3"),
    "complaint-return-visit":             post("pk=complaint",    "L 4 3 3 3 4 3 V V 3 3 3"),
    "complaint-link":                     post("pk=complaint",    "L 4 3 3 3 4 3 V V 3 3 3"),
    "complaint-reveal":                   post("pk=complaint",    "L 4 3 3 3 4 3 3 3 3 3 3"),
    "credit-account-create":              post("",                "L V V V V V V 3 3 3 3 3"),
    "credit-account-approve":             post("pk=account",      "L 3 3 3 V 4 V 3 3 3 3 3"),
    "credit-account-reject":              post("pk=account",      "L 3 3 3 V 4 V 3 3 3 3 3"),
    "credit-limit-request-list":          get("",                "L + + + + + + 3 3 + + 3"),
    "credit-limit-request-approve":       post("pk=limit",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit-limit-request-reject":        post("pk=limit",        "L 4 3 3 V 4 V 3 3 3 3 3"),
    "credit-customer-summary":            get("customer_id=customer", "L 4 + + + 4 + 3 3 + + 3"),
    "credit-order-list":                  get("",                "L + + + + + + 3 3 + + 3"),
    "credit-order-release":               post("pk=order",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit-order-reject":                post("pk=order",        "L 4 3 3 + 4 + 3 3 3 3 3"),
    "credit-hold-create":                 post("",                "L V V V V V V 3 3 3 3 3"),
    "credit-hold-release":                post("pk=hold",         "L 3 3 3 + 4 + 3 3 3 3 3"),
    "credit-invoice-list":                get("",                "L + + + + + + 3 3 + + 3"),
    "credit-payment-list":                get("",                "L + + + + + + 3 3 + + 3"),
    "credit-note-list":                   get("",                "L + + + + + + 3 3 + + 3"),
    "team-list":                          get("",                "L + + + + + + + + + + +"),
    "team-detail":                        get("pk=team",         "L + + + + + + + + + + +"),
    "api-schema":                         get("",                "+ + + + + + + + + + + +"),
    "api-docs":                           get("",                "+ + + + + + + + + + + +"),
    # --- landed alongside (observed on the work tree at 17:15; objects they name are not in
    # the world yet: see the report) ---
    "audit:event-export":                 get("file_format=file_format", "L 3 3 3 3 3 3 3 3 4 4 3"),  # json is not an export format: 404
    "audit:customer-accesses":            get("code=customer_code", "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:incident-list":                get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:incident-create":              get("",                "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit:evidence":                     get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:evidence-csv":                 get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "customers:view-save":                post("",                "L + + + + + + + + + + 3"),
    "customers:bulk":                     post("",                "L 3 3 3 + + + 3 3 3 3 3"),
    "customers:hand-over":                get("",                "L 3 3 3 + + + 3 3 3 3 3"),
    "customers:owner-change":             post("pk=customer",     "L 3 3 3 + 4 + 3 3 3 3 3"),
    "analytics:estimates":                get("",                "L + + + + + + 3 3 3 3 3"),
    "complaints:surveys":                 get("",                "L 3 3 3 3 3 3 3 + 3 3 3"),
    "audit-incident-list":                get("",                "L 3 3 3 3 3 3 3 3 + + 3"),
    "customer-saved-view-list":           get("",                "L + + + + + + + + + + 3"),
    "customer-calendar":                  get("",                "L + + + + + + + + + + 3"),
    "customer-reassign":                  post("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "customer-hand-over":                 post("",                "L 3 3 3 V V V 3 3 3 3 3"),
    "customer-owner-change":              post("pk=customer",     "L 3 3 3 V 4 V 3 3 3 3 3"),
    "analytics-estimates":                get("",                "L + + + + + + 3 3 3 3 3"),
    "analytics:estimate-history":         get("estimate_id=estimate", "L 4 + + + 4 + 4 4 4 4 4"),
    "audit:incident-detail":              get("pk=incident",     "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit:incident-contacts":            get("pk=incident",     "L 3 3 3 3 3 3 3 3 + 3 3"),
    "audit-incident-detail":              get("pk=incident",     "L 3 3 3 3 3 3 3 3 + + 3"),
    "audit-incident-contacts":            get("pk=incident",     "L 3 3 3 3 3 3 3 3 + 3 3"),
    "complaints:survey":                  get("token=survey_token", "+ + + + + + + + + + + +"),
    "complaints:survey-send":             post("pk=survey",       "L 3 3 3 3 3 3 3 + 3 3 3"),
    "credit:investigation":               get("pk=investigation", "L 4 + + + 4 + 4 4 + + 4"),
    "credit:attachment-add":              post("pk=investigation", "L 4 V V V 4 V 4 4 3 3 4"),
    "credit:attachment-download":         get("pk=attachment",   "L 4 + + + 4 + 4 4 + + 4"),
    "credit-investigation-attachments":   get("pk=investigation", "L 4 + + + 4 + 4 4 + + 4"),
    "customers:view-rename":              post("view_id=saved_view", "L 4 + 4 4 4 4 4 4 4 4 3"),
    "customers:view-delete":              post("view_id=saved_view", "L 4 + 4 4 4 4 4 4 4 4 3"),
    "customer-saved-view-detail":         get("pk=saved_view",   "L 4 + 4 4 4 4 4 4 4 4 3"),
    "users:list":                         get("",                "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:create":                       get("",                "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:detail":                       get("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:edit":                         get("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:deactivate":                   post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:reactivate":                   post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:password-reset":               post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "users:set-password":                 get("uidb64=user_uid token=reset_token", "+ + + + + + + + + + + +"),
    "user-list":                          get("",                "L 3 3 3 3 3 3 3 3 3 3 +"),
    "user-detail":                        get("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "user-deactivate":                    post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "user-reactivate":                    post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
    "user-password-reset":                post("pk=user",         "L 3 3 3 3 3 3 3 3 3 3 +"),
}
# fmt: on

# (url name, role) -> the defect, for outcomes that disagree with DESIGN §3-§4.
KNOWN_DEFECTS: dict[tuple[str, str], str] = {}


def _classify(response, method: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response["Location"]).path
        return "L" if target in ("/login/", "/admin/login/") else "+"
    if 200 <= status < 300:
        return "+"
    if status == 401:
        return "L"
    if status in (400, 409, 415):
        return "V"
    return {403: "3", 404: "4"}.get(status, str(status))


def endpoints():
    """The probed patterns: every named one but the admin's and DRF's format twins."""
    return [e for e in url_patterns() if not e.format_suffix and not e.is_admin]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """One world for the module, inside one transaction per database, rolled back."""
    with django_db_blocker.unblock():
        atomics = [transaction.atomic(using=alias) for alias in connections]
        for block in atomics:
            block.__enter__()
        try:
            built = build_world()
            # A signed-in session per role, made once: each test only sets the cookie.
            built.sessions = {}
            for role, user in built.users.items():
                client = Client()
                client.force_login(user)
                built.sessions[role] = client.cookies
            yield built
        finally:
            for alias in connections:
                transaction.set_rollback(True, using=alias)
            for block in reversed(atomics):
                block.__exit__(None, None, None)


def client_for(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.cookies = world.sessions[role].__class__(world.sessions[role])
    return client


def request_as(world, role: str, endpoint, policy: Policy):
    path = endpoint.path({name: world.values[key] for name, key in policy.args.items()})
    client = client_for(world, role)
    if policy.body is None:
        return getattr(client, policy.method)(path), path
    if endpoint.is_api:
        body = json.dumps(policy.body)
        return getattr(client, policy.method)(path, body, content_type="application/json"), path
    return getattr(client, policy.method)(path, policy.body), path


def _cases():
    seen = set()
    for endpoint in endpoints():
        if endpoint.name in seen or endpoint.name not in POLICY:
            continue
        seen.add(endpoint.name)
        for role in ROLES:
            marks = []
            defect = KNOWN_DEFECTS.get((endpoint.name, role))
            if defect:
                marks.append(pytest.mark.xfail(reason=defect, strict=True))
            yield pytest.param(endpoint, role, id=f"{endpoint.name}-{role}", marks=marks)


def test_every_url_has_a_policy():
    names = {e.name for e in endpoints()}
    unnamed = [e.route for e in endpoints() if not e.name]
    assert not unnamed, f"URL patterns without a name cannot be declared: {unnamed}"
    assert names - set(POLICY) == set(), "endpoints without a declared policy"
    assert set(POLICY) - names == set(), "policies for URLs that no longer exist"
    assert not set(KNOWN_DEFECTS) - {(n, r) for n in POLICY for r in ROLES}


def test_every_admin_url_is_in_the_admin_group():
    admin = [e for e in url_patterns() if e.is_admin]
    assert admin, "the admin site is mounted"
    assert all(e.route.startswith("admin/") for e in admin)
    assert not any(e.name in POLICY for e in admin)


@pytest.mark.django_db
@pytest.mark.parametrize(("endpoint", "role"), list(_cases()))
def test_outcome_matches_the_policy(world, endpoint, role):
    policy = POLICY[endpoint.name]
    response, path = request_as(world, role, endpoint, policy)
    got = _classify(response, policy.method)
    want = policy.outcomes[role]
    assert got == want, (
        f"{policy.method.upper()} {path} as {role}: expected "
        f"{OUTCOME_NAMES[want]}, got {OUTCOME_NAMES.get(got, got)} ({response.status_code} "
        f"{response.get('Location', '')} {response.content[:200]!r})"
    )


ADMIN_INDEX = "L L L L L L L L L L L +"  # staff only; everyone else meets the admin sign-in


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_admin_site_is_for_staff_only(world, role):
    response = client_for(world, role).get("/admin/")
    assert _classify(response, "get") == ADMIN_INDEX.split()[ROLES.index(role)]


@pytest.mark.django_db
def test_every_admin_list_answers_the_admin_without_error(world):
    from django.contrib import admin
    from django.urls import reverse

    client = client_for(world, "admin")
    statuses = {}
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        statuses[url] = client.get(url).status_code
    assert statuses and set(statuses.values()) <= {200, 403}, statuses
    assert statuses["/admin/crm/user/"] == 200
    assert statuses["/admin/customers/customer/"] == 403  # no admin reads customers here
