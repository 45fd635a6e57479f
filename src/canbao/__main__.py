import sys

from canbao.cli import main

sys.exit(main())
