import sys

from h2ocloud.node.cli import main

sys.exit(main())
