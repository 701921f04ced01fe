from rassegna.cli import main

main()
