#!/usr/bin/env python
"""Django's management command runner (developers); the product's command is ``onestory``."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestory.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
