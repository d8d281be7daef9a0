"""Every attack input the suite throws at the app, in one place, so that what is covered is easy to see.

The incidents of annotation tools before us are the test plan: stored XSS through uploaded files,
through JSON in ``<script>`` blocks and through label names; filters that reach password hashes
through the ORM; editors reaching admin views. Where each input goes, and which test checks it:

- The markup below, in titles, bodies (so span and suggestion texts), sources, label names and
  descriptions, uploaded file names, usernames, import errors, export filters and pre-annotation
  errors: test_escaping.py (every page and partial, the admin's included), test_roles.py (every URL
  of the project), tests/browser/test_security.py (no dialog, no CSP violation in a browser).
- The same markup in query strings (the list's, the export's, the history's, next's): test_escaping.py.
- ORM lookup paths in the query strings of every list and filter endpoint: test_queries.py.
- Another role's URLs, every URL pattern of the project: test_roles.py.
- A stale CSRF token on a change: test_csrf.py, tests/browser/test_security.py.
"""

SCRIPT_BREAKOUT = "</script><script>alert(1)</script><!--"
SVG_ONLOAD = "<svg onload=alert(1)>"
IMG_ONERROR = "<img src=x onerror=alert(1)>"
JAVASCRIPT_LINK = "javascript:alert(1)"
MARKUP = [SCRIPT_BREAKOUT, SVG_ONLOAD, IMG_ONERROR, JAVASCRIPT_LINK]

# Label names allow neither spaces nor more than 32 characters: the same attacks without spaces.
LABEL_NAME = "<svg/onload=alert(2)>"
# Usernames from the ORM (Django's forms would refuse these characters; the pages must not rely on it).
USERNAME = "<img src=x onerror=alert(3)>"

# What must never reach a page unescaped: each opens an element or a handler a browser would run.
RAW = [
    "<script>alert(",
    "<svg onload=",
    "<svg/onload=",
    "<img src=x onerror=",
]
# A javascript: URL is harmless as text and runs only as a link or a source.
JAVASCRIPT_URL_ATTRIBUTE = r"""(?i)(href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:"""

# Filters and orderings that reach through relations to what no browser should query.
LOOKUP_PATHS = [
    ("ordering", "created_by__password"),
    ("ordering", "-updated_by__password"),
    ("ordering", "batch__created_by__password"),
    ("status__in", "new,reviewed"),
    ("label__name__startswith", "P"),
    ("batch__created_by__password", "x"),
    ("batch__created_by__password__startswith", "md5"),
    ("created_by__password__startswith", "md5"),
    ("updated_by__username", "eddie"),
    ("spans__created_by__password__startswith", "md5"),
    ("body__contains", "Putin"),
    ("o", "created_by__password"),
    ("sort", "created_by__password"),
]
