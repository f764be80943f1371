import sys

from agmcore.command.cli import main

sys.exit(main())
