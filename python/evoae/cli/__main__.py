"""python -m evoae.cli: the same as the evoae command."""
import sys

from .main import main

sys.exit(main())
