from socialsight.cli import main

main()
