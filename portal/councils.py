"""The partnership's three councils: the facts the portal is built on.

Names and LA codes are real. VAT numbers, bank details and ledger codes are invented demo values, and the
councils created from this data are marked ``is_demo_data`` so that nobody mistakes them for the real ones.
Addresses are the councils' public headquarters.
"""

PARTNERSHIP_COUNCILS: list[dict] = [
    {
        "name": "Staffordshire County Council",
        "short_name": "Staffordshire",
        "slug": "staffordshire",
        "la_code": "860",
        "invoice_prefix": "SCC",
        "vat_number": "GB 000 8600 00 (demo)",
        "address": "1 Staffordshire Place\nTipping Street\nStafford\nST16 2DH",
        "email": "traded.services@staffordshire.example",
        "telephone": "0300 111 8000",
        "website": "https://www.staffordshire.gov.uk",
        "bank_name": "Demo Bank plc",
        "bank_account_name": "Staffordshire County Council (demo)",
        "bank_sort_code": "00-86-00",
        "bank_account_number": "08600001",
        "remittance_email": "income@staffordshire.example",
        "default_cost_centre": "SCC-EDU-100",
        "default_income_code": "SCC-9100",
    },
    {
        "name": "Shropshire Council",
        "short_name": "Shropshire",
        "slug": "shropshire",
        "la_code": "893",
        "invoice_prefix": "SHR",
        "vat_number": "GB 000 8930 00 (demo)",
        "address": "Shirehall\nAbbey Foregate\nShrewsbury\nSY2 6ND",
        "email": "traded.services@shropshire.example",
        "telephone": "0345 678 9000",
        "website": "https://www.shropshire.gov.uk",
        "bank_name": "Demo Bank plc",
        "bank_account_name": "Shropshire Council (demo)",
        "bank_sort_code": "00-89-30",
        "bank_account_number": "08930001",
        "remittance_email": "income@shropshire.example",
        "default_cost_centre": "SHR-LRN-200",
        "default_income_code": "SHR-8200",
    },
    {
        "name": "Worcestershire County Council",
        "short_name": "Worcestershire",
        "slug": "worcestershire",
        "la_code": "885",
        "invoice_prefix": "WCC",
        "vat_number": "GB 000 8850 00 (demo)",
        "address": "County Hall\nSpetchley Road\nWorcester\nWR5 2NP",
        "email": "traded.services@worcestershire.example",
        "telephone": "01905 763 763",
        "website": "https://www.worcestershire.gov.uk",
        "bank_name": "Demo Bank plc",
        "bank_account_name": "Worcestershire County Council (demo)",
        "bank_sort_code": "00-88-50",
        "bank_account_number": "08850001",
        "remittance_email": "income@worcestershire.example",
        "default_cost_centre": "WCC-CYP-300",
        "default_income_code": "WCC-7300",
    },
]


def ensure_partnership_councils():
    """Create or update the three councils; returns them keyed by slug. Safe to run any number of times."""
    from portal.models import Council

    councils = {}
    for data in PARTNERSHIP_COUNCILS:
        council, _ = Council.objects.update_or_create(la_code=data["la_code"], defaults={**data, "is_demo_data": True})
        councils[council.slug] = council
    return councils
