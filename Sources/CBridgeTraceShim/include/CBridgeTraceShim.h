#pragma once
/* Prefixed C shims (bt_*), one header per concern, for what Swift cannot call directly. */
#include "bt_log.h"
#include "bt_object.h"
#include "bt_tc.h"
#include "bt_link.h"
#include "bt_sys.h"
#include "bt_objects.h"
#include "bt_netlink.h"
#include "bt_netlink_bridge.h"
#include "bt_bench.h"
#include "bt_xsk.h"
#include "bt_probe.h"
