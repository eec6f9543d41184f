#ifndef BT_BUILD_H
#define BT_BUILD_H

/// The git commit this binary was built from, or "" when the build did not say.
const char *bt_build_git_commit(void);

#endif
