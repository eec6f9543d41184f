import BridgeTraceCLI

Entry.main()
