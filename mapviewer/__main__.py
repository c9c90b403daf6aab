from mapviewer.cli.main import main

raise SystemExit(main())
