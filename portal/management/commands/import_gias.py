"""`manage.py import_gias FILE [--la 860 --la 893 ...]`: load the schools directory from a GIAS extract.

A thin shell around ``portal.gias.import_gias_file``: it prints the summary, and turns a refused file into
a one-line message with exit status 1 (a CommandError, which Django prints without a traceback).
"""

import argparse
import re
import sys

from django.core.management.base import BaseCommand, CommandError

from portal.gias import GiasFileError, import_gias_file

REJECTED_LISTED = 50


def la_code(value: str) -> str:
    if not re.fullmatch(r"\d{3}", value.strip()):
        raise argparse.ArgumentTypeError(f"{value!r} is not an LA code (three digits, e.g. 860)")
    return value.strip()


class Command(BaseCommand):
    help = (
        "Create or update schools from a GIAS establishment extract (edubasealldataYYYYMMDD.csv), by URN. "
        "Download it from https://get-information-schools.service.gov.uk/Downloads."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The extract: a Windows-1252 CSV file as GIAS provides it.")
        parser.add_argument(
            "--la",
            dest="la_codes",
            action="append",
            type=la_code,
            metavar="CODE",
            help="Import only schools of this local authority (repeat for several: --la 860 --la 893 --la 885).",
        )
        parser.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Show a progress bar (default: when the output is a terminal).",
        )

    def handle(self, *args, file: str, la_codes: list[str] | None, progress: bool | None, **options):
        if progress is None:
            progress = sys.stderr.isatty()
        try:
            result = import_gias_file(file, la_codes=la_codes, progress=progress)
        except GiasFileError as exc:
            raise CommandError(str(exc)) from None

        write = self.stdout.write
        write(self.style.SUCCESS(f"Imported {file}"))
        write(f"  created: {result.created}")
        write(f"  updated: {result.updated}")
        write(f"  unchanged: {result.unchanged}")
        write(f"  skipped (other LA): {result.skipped_other_la}")
        write(f"  rejected: {len(result.rejected)}")
        for rejected in result.rejected[:REJECTED_LISTED]:
            urn = f" (URN {rejected.urn})" if rejected.urn else ""
            write(self.style.WARNING(f"    line {rejected.line}{urn}: {rejected.reason}"))
        if len(result.rejected) > REJECTED_LISTED:
            write(f"    ... and {len(result.rejected) - REJECTED_LISTED} more")
