"""Messages of the import framework: English templates, translated when shown.

Errors are stored with the template and its parameters (never a cell's value: that may be
personal data), so pages and the API show them in the reader's language.
"""

from django.utils.translation import gettext_noop

REQUIRED = gettext_noop("This field is required.")
TOO_LONG = gettext_noop("This value is too long (at most %(limit)s characters).")
NUL_CHARACTER = gettext_noop("Null characters are not allowed.")
BAD_EMAIL = gettext_noop("Enter a valid e-mail address.")
BAD_DATE = gettext_noop("Enter a date as YYYY-MM-DD.")
DATE_OUT_OF_RANGE = gettext_noop("Enter a date between 1900-01-01 and 2100-12-31.")
BAD_BOOLEAN = gettext_noop("Enter yes or no (是/否).")
SAME_IN_FILE = gettext_noop("The same value is already on line %(line)s of this file.")
UNKNOWN_COLUMN = gettext_noop("Unknown column; rename its header or delete the column.")
REPEATED_COLUMN = gettext_noop("This column appears more than once.")
MISSING_COLUMN = gettext_noop("The file has no such column, and it is required.")
NO_ROWS = gettext_noop("The file has no rows to import.")
NOT_TEXT = gettext_noop(
    "The file is neither UTF-8 nor GB18030 text; save it from Excel as CSV (UTF-8) or XLSX."
)
MIXED_ENCODINGS = gettext_noop(
    "This line is not in the same encoding as the lines before it (%(encoding)s): the file "
    "mixes encodings. Save it again from one program as CSV (UTF-8) or XLSX."
)
BAD_CSV = gettext_noop("The file cannot be read as CSV from this line on.")
BAD_XLSX = gettext_noop("The file is not a valid XLSX workbook.")
TOO_MANY_ROWS = gettext_noop(
    "The file has more than %(limit)s rows; reading stopped here. Split it into smaller files."
)
TOO_BIG_UNCOMPRESSED = gettext_noop(
    "The workbook unpacks to more than %(limit)s MB; it was not read. Save it again without "
    "unused rows and columns, or split it."
)
NOT_SAVED = gettext_noop("The row could not be saved.")
CRASHED = gettext_noop(
    "The import stopped because of an internal error; nothing more was written. Please try "
    "again or tell an administrator."
)
STALLED = gettext_noop(
    "The import stopped answering (its worker may have been restarted) and was closed. "
    "Nothing more will be written; import the file again."
)
INTERRUPTED = gettext_noop(
    "The import was interrupted while writing; the rows already written stay. Import the "
    "file again: those rows will be reported as duplicates."
)
