// The bench work (issue 5) fills this module.
