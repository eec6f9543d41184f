#include "bt_build.h"

// Package.swift defines BT_GIT_COMMIT from BRIDGETRACE_GIT_COMMIT (set by scripts/package).
#ifndef BT_GIT_COMMIT
#define BT_GIT_COMMIT ""
#endif

const char *bt_build_git_commit(void) { return BT_GIT_COMMIT; }
