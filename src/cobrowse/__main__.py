from cobrowse.cli import main

main()
