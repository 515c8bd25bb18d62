"""``python -m mlc_salesforce_emulator --data-dir DIR ...``"""

from .cli import main

main()
